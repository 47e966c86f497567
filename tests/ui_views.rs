//! UI tests of the collapse, theory and players views (egui_kittest, natively, no GPU): each
//! renders a fixed run and its readouts are checked against values computed independently.
#![cfg(feature = "app")]

use alphacl::analysis::spectrum::CollapseMetrics;
use alphacl::app::views::{PROBE_PAIRS, embed_like_training, fixed_pairs};
use alphacl::app::{LabApp, Tab};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

fn harness(app: LabApp) -> Harness<'static, LabApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, app: &mut LabApp| {
                app.logic();
                app.ui(ui);
            },
            app,
        )
}

fn trained(steps: usize) -> LabApp {
    let mut app = LabApp::default();
    for _ in 0..steps {
        app.single_step();
    }
    app
}

/// The accessible label of the first node whose label contains `needle`.
fn label_of(h: &Harness<'_, LabApp>, needle: &str) -> String {
    // AccessKit keeps a `Role::Label`'s text in `value`, other widgets' in `label`.
    let node = h.get_by_label_contains(needle);
    node.accesskit_node()
        .label()
        .or_else(|| node.value())
        .unwrap_or_default()
}

/// The number that follows `key` in `text` (e.g. "effective rank 3.21 of …").
fn number_after(text: &str, key: &str) -> f64 {
    let start = text
        .find(key)
        .unwrap_or_else(|| panic!("'{key}' not in '{text}'"))
        + key.len();
    let rest = text[start..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e')))
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|e| panic!("no number after '{key}' in '{text}': {e}"))
}

#[test]
fn view_keys_select_the_new_tabs() {
    for (key, tab) in [
        ("collapse", Tab::Collapse),
        ("theory", Tab::Theory),
        ("players", Tab::Players),
    ] {
        let app = LabApp::from_hash(&format!("view={key}"));
        assert!(app.error.is_none(), "{:?}", app.error);
        assert_eq!(app.tab, tab);
        assert_eq!(tab.key(), key);
    }
}

#[test]
fn collapse_view_shows_the_effective_rank_of_the_probe_batch() {
    let app = trained(5);
    // The same probe batch, computed outside the view.
    let expected = {
        let t = app
            .focused()
            .and_then(|r| r.local_trainer())
            .expect("an in-frame trainer");
        let z = embed_like_training(
            t,
            &fixed_pairs(t, PROBE_PAIRS, "collapse-probe", false),
            alphacl::nn::Stage::Representation,
        );
        CollapseMetrics::compute(&z).expect("metrics")
    };
    let mut h = harness(app);
    h.run();
    h.get_by_label("Collapse").click();
    h.run();
    let text = label_of(&h, "mean per-dim std");
    let er = number_after(&text, "effective rank");
    let d = expected.dim as f64;
    assert!((1.0..=d).contains(&er), "{text}");
    assert!(
        (er - expected.effective_rank).abs() < 0.006,
        "view {er} vs direct {}",
        expected.effective_rank
    );
    let rankme = number_after(&text, "RankMe");
    assert!(
        (rankme - expected.rankme).abs() < 0.006,
        "{text} vs {}",
        expected.rankme
    );
    // Alignment of unit vectors lies in [0, 4]; uniformity ≤ 0.
    let al = number_after(&text, "alignment");
    let un = number_after(&text, "uniformity");
    assert!((0.0..=4.0).contains(&al) && un <= 0.0, "{text}");
}

#[test]
fn theory_step_button_advances_the_experiment_and_raises_the_energy() {
    let mut h = harness(trained(2));
    h.run();
    h.get_by_label("Theory").click();
    h.run();
    let before = label_of(&h, "effective rank of W₁");
    assert_eq!(number_after(&before, "experiment step"), 0.0, "{before}");
    let e0 = number_after(&before, "E_α");
    let half = number_after(&before, "½λ_max(C_α)");
    for _ in 0..3 {
        h.get_by_label("Step experiment").click();
        h.run();
    }
    let after = label_of(&h, "effective rank of W₁");
    assert_eq!(number_after(&after, "experiment step"), 3.0, "{after}");
    let e3 = number_after(&after, "E_α");
    // Gradient ascent on E_α with normalised layers: E rises toward ½λ_max, never beyond.
    assert!(e3 > e0, "{before} → {after}");
    assert!(e3 <= half * (1.0 + 1e-9), "{after}");
    // The live Theorem 1 residual for the training loss is tiny (the identity holds).
    let th = label_of(&h, "Theorem 1");
    let r = number_after(&th, "|dL/dz − g|/|g| =");
    assert!(r < 1e-4, "{th}");
}

#[test]
fn theory_relu2_settings_reset_the_experiment() {
    let mut h = harness(trained(1));
    h.run();
    h.get_by_label("Theory").click();
    h.run();
    h.get_by_label("Step experiment").click();
    h.run();
    h.get_by_label("2-layer ReLU (§5.3)").click();
    h.run();
    let text = label_of(&h, "effective rank of W₁");
    assert_eq!(number_after(&text, "experiment step"), 0.0, "{text}");
    h.get_by_label("Step experiment").click();
    h.run();
    let text = label_of(&h, "effective rank of W₁");
    assert_eq!(number_after(&text, "experiment step"), 1.0, "{text}");
    let rank = number_after(&text, "effective rank of W₁");
    assert!((1.0..=10.0).contains(&rank), "{text}");
}

#[test]
fn players_min_then_max_raises_e_alpha_with_alpha_frozen() {
    let mut h = harness(trained(3));
    h.run();
    h.get_by_label("Players").click();
    h.run();
    let steps0 = h.state().view().map(|t| t.step_count());
    h.get_by_label("Min player: recompute α").click();
    h.run();
    let min = label_of(&h, "after min player");
    let e_min = number_after(&min, "E_α =");
    // The min player does not move θ.
    assert_eq!(h.state().view().map(|t| t.step_count()), steps0);
    h.get_by_label("Max player: θ step (α frozen)").click();
    h.run();
    let max = label_of(&h, "E_α before");
    let before = number_after(&max, "E_α before");
    let after = number_after(&max, ", after");
    assert!(
        (before - e_min).abs() <= 1e-4 * (1.0 + e_min.abs()),
        "the max player starts from the min player's E_α: {min} / {max}"
    );
    let delta = number_after(&max, "(Δ");
    assert!(
        after >= before && delta > 0.0,
        "max player must increase E_α: {max}"
    );
    assert_eq!(
        h.state().view().map(|t| t.step_count()),
        steps0.map(|s| s + 1)
    );
    h.get_by_label_contains("max-player steps on this α: 1");
    h.get_by_label_contains("z of the frozen batch");
}

#[test]
fn scatter_and_curves_render_with_data() {
    let mut h = harness(trained(30));
    h.run();
    h.get_by_label_contains("hover a point");
    h.get_by_label("Curves").click();
    h.run();
    h.get_by_label("time (s)").click();
    h.run();
    h.get_by_label("α heat map").click();
    h.run();
    h.get_by_label_contains("right bars: β_i");
}

#[test]
fn theory_play_advances_the_experiment_within_its_frame_budget() {
    let mut h = harness(trained(1));
    h.run();
    h.get_by_label("Theory").click();
    h.run();
    h.get_by_label("Play experiment").click();
    for _ in 0..3 {
        h.step();
    }
    let text = label_of(&h, "effective rank of W₁");
    assert!(number_after(&text, "experiment step") >= 5.0, "{text}");
    h.get_by_label("Pause experiment").click();
    h.step();
    let paused = number_after(&label_of(&h, "effective rank of W₁"), "experiment step");
    h.step();
    h.step();
    let later = number_after(&label_of(&h, "effective rank of W₁"), "experiment step");
    assert_eq!(paused, later, "a paused experiment must not advance");
}

/// The step in a spectrum legend entry ("step 400" or "now (step 3200)").
fn legend_step(label: &str) -> Option<usize> {
    let rest = label
        .strip_prefix("step ")
        .or_else(|| label.strip_prefix("now (step "))?;
    rest.trim_end_matches(')').parse().ok()
}

/// Issue 17 item 4: the Collapse spectrum legend lists its snapshots by step (0, 4, 8, 16,
/// now), not as text (0, 16, 4, 8).
#[test]
fn collapse_spectrum_legend_is_in_step_order() {
    let mut h = harness(LabApp::from_hash("view=collapse&batch=32"));
    h.run();
    for _ in 0..32 {
        h.state_mut().single_step();
        h.run();
    }
    let mut entries: Vec<(f32, String)> = h
        .get_all_by_role(egui::accesskit::Role::CheckBox)
        .filter_map(|n| {
            let label = n.accesskit_node().label()?;
            legend_step(&label).map(|_| (n.rect().min.y, label))
        })
        .collect();
    entries.sort_by(|a, b| a.0.total_cmp(&b.0));
    let labels: Vec<&str> = entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        labels,
        ["step 0", "step 4", "step 8", "step 16", "now (step 32)"],
        "legend top to bottom"
    );
}
