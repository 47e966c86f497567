//! UI tests of the Compare view and the live figure window (egui_kittest, natively, no GPU):
//! buttons that keep their place, a double-click that removes one run, the loss chart's
//! relative scale, the table's smoothed accuracies and seed summaries, the α map size, and the
//! live figure's menu entry, toggles and Close.
#![cfg(feature = "app")]

mod ui_common;

use alphacl::app::live_figure::FigureKind;
use alphacl::app::views::{
    LossScale, MIN_MAP_SIDE, SMOOTH_EVALS, map_layout, mean_of_last, mean_sd, scaled_loss,
};
use alphacl::app::{LabApp, Tab};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use ui_common::harness;

/// A lab comparing `hash`'s runs, on the Compare tab, after `steps` steps of each.
fn comparing(hash: &str, steps: usize) -> Harness<'static, LabApp> {
    let mut app = LabApp::from_hash(hash);
    assert!(app.error.is_none(), "{:?}", app.error);
    for _ in 0..steps {
        app.single_step();
    }
    app.tab = Tab::Compare;
    let mut h = harness(app);
    h.run_steps(3);
    h
}

fn rect(h: &Harness<'_, LabApp>, name: &str) -> [f32; 4] {
    *h.state()
        .widget_rects
        .get(name)
        .unwrap_or_else(|| panic!("widget '{name}' not drawn"))
}

fn centre(r: [f32; 4]) -> egui::Pos2 {
    egui::pos2(r[0] + r[2] / 2.0, r[1] + r[3] / 2.0)
}

/// A press and release of the primary button at `pos`, one frame each.
fn click_at(h: &mut Harness<'_, LabApp>, pos: egui::Pos2) {
    h.event(egui::Event::PointerMoved(pos));
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
}

/// The accessible text of the first node whose label or value contains `needle`.
fn text_of(h: &Harness<'_, LabApp>, needle: &str) -> String {
    let node = h.get_by_label_contains(needle);
    node.accesskit_node()
        .label()
        .or_else(|| node.value())
        .unwrap_or_default()
}

#[test]
fn edit_in_panel_and_remove_stay_where_they_are_when_a_run_is_focused() {
    let mut h = comparing("run2=&run3=", 0);
    assert_eq!(h.state().runs.len(), 3);
    assert_eq!(h.state().focus_colour, 0);
    let focus2 = rect(&h, "compare:focus:2");
    let remove2 = rect(&h, "compare:remove:2");
    let remove1 = rect(&h, "compare:remove:1");
    click_at(&mut h, centre(focus2));
    h.run_steps(2);
    assert_eq!(h.state().focus_colour, 1, "the click focused run 2");
    // Nothing in run 2's row moved: a second click lands on the same (now disabled) button.
    assert_eq!(rect(&h, "compare:focus:2"), focus2);
    assert_eq!(rect(&h, "compare:remove:2"), remove2);
    assert_eq!(rect(&h, "compare:remove:1"), remove1);
    click_at(&mut h, centre(focus2));
    h.run_steps(2);
    assert_eq!(
        h.state().runs.len(),
        3,
        "a double-click on Edit in panel removes nothing"
    );
}

#[test]
fn a_double_click_on_remove_removes_one_run() {
    let mut h = comparing("run2=&run3=", 0);
    let remove2 = centre(rect(&h, "compare:remove:2"));
    click_at(&mut h, remove2);
    // Run 3's row has moved up: its Remove is now under the pointer.
    click_at(&mut h, remove2);
    h.run_steps(2);
    let colours: Vec<usize> = h.state().runs.iter().map(|r| r.colour).collect();
    assert_eq!(colours, [0, 2], "only run 2 is removed");
    // The guard is short: a deliberate click later removes the next run.
    h.run_steps(60);
    let remove3 = centre(rect(&h, "compare:remove:3"));
    click_at(&mut h, remove3);
    h.run_steps(2);
    assert_eq!(h.state().runs.len(), 1);
}

#[test]
fn relative_loss_puts_runs_of_any_sign_and_scale_on_one_axis() {
    // A positive and a negative loss, both falling by a quarter of their first value.
    let (a, l1, fallback) = scaled_loss(&[4.0, 3.0], LossScale::Relative);
    assert_eq!((a, l1, fallback), (vec![0.0, -25.0], Some(4.0), false));
    let (b, l1, _) = scaled_loss(&[-2.0, -2.5], LossScale::Relative);
    assert_eq!((b, l1), (vec![0.0, -25.0], Some(-2.0)));
    // A first loss of zero cannot be divided by: the curve is the difference L − L₁.
    let (c, _, fallback) = scaled_loss(&[0.0, -0.5], LossScale::Relative);
    assert_eq!((c, fallback), (vec![0.0, -0.5], true));
    assert_eq!(scaled_loss(&[4.0, 3.0], LossScale::Absolute).0, [4.0, 3.0]);

    let mut h = comparing("run2=loss=acl-quadratic:tau=0.2", 5);
    assert!(
        h.query_by_label_contains("(L₁ =").is_none(),
        "absolute by default"
    );
    h.get_by_label("relative to step 1").click();
    h.run_steps(2);
    // The legend (a row of labels above the chart) names each run's reference L₁.
    for (colour, run) in h.state().runs.iter().enumerate() {
        let l1 = run.view.history.loss[0];
        let label = text_of(&h, &format!("run {} ·", colour + 1));
        assert!(label.contains(&format!("L₁ = {l1:.3}")), "{label}");
    }
}

#[test]
fn the_table_shows_last_and_smoothed_accuracy_and_seed_spread() {
    // Two runs that differ only by their seed, evaluated often.
    let mut h = comparing("eval=2&run2=seed=7", 14);
    let runs = &h.state().runs;
    assert!(
        runs[0].view.history.evals.len() > SMOOTH_EVALS,
        "enough evaluations"
    );
    let smooth: Vec<f64> = runs
        .iter()
        .map(|r| {
            let e = &r.view.history.evals;
            let last: Vec<f64> = e[e.len() - SMOOTH_EVALS..]
                .iter()
                .map(|e| e.knn_acc)
                .collect();
            last.iter().sum::<f64>() / SMOOTH_EVALS as f64
        })
        .collect();
    let last = runs[0].view.history.evals.last().unwrap().knn_acc;
    let row = format!("{last:.3} · {:.3}", smooth[0]);
    assert!(h.query_by_label(&row).is_some(), "run 1's kNN cell '{row}'");
    // mean ± sample sd over the two seeds, computed here.
    let m = (smooth[0] + smooth[1]) / 2.0;
    let sd = ((smooth[0] - m).powi(2) + (smooth[1] - m).powi(2)).sqrt();
    let summary = text_of(&h, "differ only by seed");
    assert!(
        summary.contains("runs 1, 2 differ only by seed (2 seeds)"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("kNN {m:.3} ± {sd:.3}")),
        "{summary}"
    );
    // The whole-set evaluation has its place, disabled until the engine offers it.
    let b = h.get_by_label("Final evaluation (whole held-out set)");
    assert!(b.accesskit_node().is_disabled());
    h.run_steps(1);
}

#[test]
fn smoothing_helpers_skip_non_finite_values() {
    assert_eq!(
        mean_of_last([1.0, f64::NAN, 3.0, 5.0].into_iter(), 2),
        Some(4.0)
    );
    assert_eq!(mean_of_last([f64::NAN].into_iter(), 3), None);
    assert_eq!(mean_sd(&[2.0]), Some((2.0, 0.0)));
    let (m, sd) = mean_sd(&[1.0, 3.0]).unwrap();
    assert_eq!(m, 2.0);
    assert!((sd - 2f64.sqrt()).abs() < 1e-12);
}

#[test]
fn alpha_maps_in_compare_are_large_enough_for_class_blocks() {
    // The Compare view's width at the reference size, and at 1024 px.
    for width in [960.0, 700.0] {
        for n in 1..=4 {
            let (per_row, side) = map_layout(width, n);
            assert!(per_row >= 1 && per_row <= n);
            assert!(side >= MIN_MAP_SIDE, "{n} maps in {width}: side {side}");
        }
    }
    let h = comparing("run2=", 5);
    drop(h);
}

#[test]
fn the_live_figure_opens_from_the_menu_and_the_views_and_closes() {
    let app = LabApp::default();
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Share & export").click();
    h.run_steps(2);
    h.get_by_label("Live figure…").click();
    h.run_steps(2);
    assert!(h.state().live_figure.open);
    assert!(
        h.query_by_label("Live figure").is_some(),
        "the window is shown"
    );
    let canvas = rect(&h, "figure:canvas");
    assert!(canvas[2] >= 360.0 && canvas[3] > 100.0, "{canvas:?}");
    h.get_by_label("Close").click();
    h.run_steps(2);
    assert!(!h.state().live_figure.open);
    assert!(h.state().live_figure.rect.is_none());

    // The α view's Figure toggle opens it on the α map; a second click closes it.
    h.state_mut().tab = Tab::Alpha;
    h.state_mut().single_step();
    h.run_steps(3);
    h.get_by_label("Figure").click();
    h.run_steps(2);
    assert!(h.state().live_figure.open);
    assert_eq!(h.state().live_figure.kind, FigureKind::Alpha);
    h.get_by_label("Figure").click();
    for k in 0..4 {
        h.step();
        eprintln!("frame {k}: open {}", h.state().live_figure.open);
    }
    assert!(!h.state().live_figure.open);
}

#[test]
fn saving_from_the_live_figure_exports_the_figure_shown() {
    let mut app = LabApp::default();
    app.single_step();
    app.live_figure.show(FigureKind::Spectrum);
    let mut h = harness(app);
    h.run_steps(3);
    let canvas = rect(&h, "figure:canvas");
    h.get_by_label("Save PNG").click();
    h.run_steps(1);
    let d = h
        .state_mut()
        .outbox
        .downloads
        .pop()
        .expect("a PNG download");
    assert_eq!(d.name, "alphacl-spectrum.png");
    // Twice the canvas's size: the layout on screen at twice the resolution.
    let w = u32::from_be_bytes(d.bytes[16..20].try_into().unwrap());
    let hgt = u32::from_be_bytes(d.bytes[20..24].try_into().unwrap());
    assert_eq!(w, (2.0 * canvas[2]) as u32);
    assert_eq!(hgt, (2.0 * canvas[3]) as u32);
}

/// The opaque white rectangles egui painted in the last frame.
fn white_rects(h: &Harness<'_, LabApp>) -> Vec<egui::Rect> {
    fn walk(s: &egui::Shape, out: &mut Vec<egui::Rect>) {
        match s {
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            egui::Shape::Rect(r) if r.fill == egui::Color32::WHITE => out.push(r.rect),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for cs in &h.output().shapes {
        walk(&cs.shape, &mut out);
    }
    out
}

#[test]
fn the_live_figure_canvas_is_placed_only_where_its_window_paints_the_slot() {
    // The browser lays the figure's HTML canvas over `live_figure.rect` every frame. A window's
    // first frame is egui's invisible sizing pass, laid out elsewhere (100 pt higher here):
    // the canvas must not be placed there, only over the white slot the window really paints.
    let mut app = LabApp::default();
    app.single_step();
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("Share & export").click();
    h.run_steps(2);
    h.get_by_label("Live figure…").click();
    let mut placed = Vec::new();
    for frame in 0..5 {
        h.step();
        let Some(rect) = h.state().live_figure.rect else {
            continue;
        };
        let painted = white_rects(&h);
        assert!(
            painted.contains(&rect),
            "frame {frame}: canvas placed at {rect:?}, white slots painted: {painted:?}"
        );
        placed.push(rect);
    }
    assert!(
        placed.len() >= 3,
        "the canvas is placed once the window shows"
    );
    assert!(
        placed.windows(2).all(|w| w[0] == w[1]),
        "the canvas does not jump: {placed:?}"
    );
}
