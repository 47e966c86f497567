//! UI tests of the responsive layout and the plot axes (egui_kittest, natively): the control
//! panel folds behind a toggle on a narrow screen and Play/Pause stays in reach; at 1400×900,
//! 1024×700 and 400×800 every plot of every view names both axes, labels at least three
//! ticks on each, stays inside the screen's width and overlaps no other plot.
#![cfg(feature = "app")]

use alphacl::app::layout::PlotAxes;
use alphacl::app::{LabApp, Tab};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

const SIZES: [(f32, f32); 3] = [(1400.0, 900.0), (1024.0, 700.0), (400.0, 800.0)];

fn harness_at(app: LabApp, w: f32, h: f32) -> Harness<'static, LabApp> {
    Harness::builder()
        .with_size(egui::vec2(w, h))
        .build_ui_state(
            |ui, app: &mut LabApp| {
                app.logic();
                app.ui(ui);
            },
            app,
        )
}

/// The default run after a few steps (snapshots, evaluations and collapse metrics exist).
fn trained() -> LabApp {
    let mut app = LabApp::default();
    app.teach.dismiss_primer();
    for _ in 0..12 {
        app.single_step();
    }
    app
}

fn overlap(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let h = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    w.max(0.0) * h.max(0.0)
}

#[test]
fn a_narrow_screen_folds_the_controls_and_keeps_play_in_the_top_bar() {
    let mut h = harness_at(trained(), 400.0, 800.0);
    h.run();
    assert!(h.state().layout.narrow);
    assert_eq!(h.state().layout.controls(), "folded");
    // The panel's widgets are not laid out: the views have the whole width.
    assert!(!h.state().widget_rects.contains_key("reset"));
    let play = h.state().widget_rects["top:play"];
    assert!(play[0] >= 0.0 && play[0] + play[2] <= 400.0, "{play:?}");
    // (A playing lab repaints every frame: single steps, not `run`.)
    h.get_by_label("Play").click();
    h.step();
    assert!(h.state().running, "the top bar's Play plays");
    h.step();
    h.get_by_label("Pause").click();
    h.step();
    assert!(!h.state().running, "and pauses");
    h.key_press(egui::Key::Space);
    h.step();
    assert!(h.state().running, "Space plays on a narrow screen too");
    h.key_press(egui::Key::Space);
    h.step();
    assert!(!h.state().running);
    h.run();
    // Opened, the controls take the views' place, at full width.
    h.get_by_label("Controls").click();
    h.run();
    assert_eq!(h.state().layout.controls(), "open");
    let reset = h.state().widget_rects["reset"];
    assert!(reset[0] + reset[2] <= 400.0, "{reset:?}");
    assert!(
        h.state().layout.plots.is_empty(),
        "no view behind the controls"
    );
    h.get_by_label("Hide controls").click();
    h.run();
    assert_eq!(h.state().layout.controls(), "folded");
    assert!(!h.state().layout.plots.is_empty(), "the view is back");
}

#[test]
fn a_wide_screen_keeps_the_panel_beside_the_views() {
    for (w, hgt) in [(1400.0, 900.0), (1024.0, 700.0)] {
        let mut h = harness_at(trained(), w, hgt);
        h.run();
        assert!(!h.state().layout.narrow, "{w}");
        assert_eq!(h.state().layout.controls(), "side");
        let play = h.state().widget_rects["play"];
        let scatter = h.state().layout.plots["pca_scatter"].rect;
        assert!(
            play[0] + play[2] <= scatter[0],
            "panel left of the views at {w}"
        );
        assert!(!h.state().widget_rects.contains_key("top:play"));
    }
}

/// The plots of `tab` at the harness's size (after two frames, so plot bounds settle).
fn plots_of(h: &mut Harness<'static, LabApp>, tab: Tab) -> Vec<(String, PlotAxes)> {
    h.state_mut().tab = tab;
    h.run();
    if tab == Tab::Players && h.state().layout.plots.is_empty() {
        h.get_by_label("Min player: recompute α").click();
        h.run();
    }
    h.run();
    h.state()
        .layout
        .plots
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn every_plot_names_its_axes_and_labels_three_ticks_at_every_size() {
    // Every view with plots (the α map draws its own, with its colour bar).
    let tabs = [
        (Tab::Overview, 3),
        (Tab::Curves, 2),
        (Tab::Data, 1),
        (Tab::Collapse, 4),
        (Tab::Theory, 2),
        (Tab::Players, 2),
        (Tab::Compare, 3),
    ];
    for (w, hgt) in SIZES {
        let mut h = harness_at(trained(), w, hgt);
        h.run();
        for (tab, n) in tabs {
            let plots = plots_of(&mut h, tab);
            let at = format!("{} at {w}×{hgt}", tab.key());
            assert_eq!(plots.len(), n, "{at}: {plots:?}");
            for (name, p) in &plots {
                assert!(
                    !p.x_label.is_empty() && !p.y_label.is_empty(),
                    "{name} ({at}) has unnamed axes: {p:?}"
                );
                assert!(
                    p.x_ticks >= 3 && p.y_ticks >= 3,
                    "{name} ({at}) labels too few ticks: {p:?}"
                );
                let [x, _, pw, ph] = p.rect;
                assert!(x >= 0.0 && x + pw <= w + 0.5, "{name} ({at}) is cut: {p:?}");
                assert!(ph >= 100.0, "{name} ({at}) is too short to read: {p:?}");
                // Compare scrolls its plots vertically (three of them under the run table).
                if w >= 900.0 && tab != Tab::Compare {
                    // Side by side, a view fits the window: no axis name below its bottom.
                    let bottom = p.rect[1] + ph;
                    assert!(bottom <= hgt, "{name} ({at}) runs off the bottom: {p:?}");
                }
            }
            for (i, (a, pa)) in plots.iter().enumerate() {
                for (b, pb) in &plots[i + 1..] {
                    assert!(
                        overlap(pa.rect, pb.rect) < 1.0,
                        "{a} and {b} overlap ({at}): {:?} / {:?}",
                        pa.rect,
                        pb.rect
                    );
                }
            }
        }
    }
}

#[test]
fn the_theory_experiment_starts_on_a_meaningful_log_step_axis_and_names_its_data() {
    let mut h = harness_at(trained(), 1024.0, 700.0);
    h.run();
    let plots = plots_of(&mut h, Tab::Theory);
    let energy = &plots
        .iter()
        .find(|(n, _)| n == "theory_energy")
        .expect("the energy plot")
        .1;
    assert!(energy.x_label.contains("log"), "{energy:?}");
    // Before Play: ticks 0, 1, 10, 100 (not an empty −200…200 axis).
    assert!(energy.x_ticks >= 3, "{energy:?}");
    h.get_by_label_contains("Data: the paper's §5.2 set");
    h.get_by_label_contains("Not the panel's data set");
    h.get_by_label("2-layer ReLU (§5.3)").click();
    h.run();
    h.get_by_label_contains("Data: the paper's §5.3 set");
}

#[test]
fn the_theory_speed_sets_the_steps_per_frame() {
    let mut h = harness_at(trained(), 1400.0, 900.0);
    h.state_mut().tab = Tab::Theory;
    h.run();
    let speed = |h: &mut Harness<'static, LabApp>, n: usize| {
        h.get_by_label("Reset experiment").click();
        h.run();
        // The speed slider's value; a generous frame budget, so only the speed counts.
        h.state_mut().theory_mut().steps_per_frame = n;
        h.state_mut().theory_mut().budget_ms = 1000.0;
        h.get_by_label("Play experiment").click();
        for _ in 0..3 {
            h.step();
        }
        h.get_by_label("Pause experiment").click();
        h.step();
        h.state_mut().theory_mut().steps()
    };
    let slow = speed(&mut h, 1);
    let fast = speed(&mut h, 20);
    assert!(
        (1..=5).contains(&slow),
        "1 step per frame over ~4 frames: {slow}"
    );
    assert!(fast >= 10 * slow, "20 steps per frame: {fast} vs {slow}");
}
