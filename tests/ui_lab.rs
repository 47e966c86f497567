//! UI tests of the lab (egui_kittest, natively, no GPU): real clicks through the AccessKit tree.
#![cfg(feature = "app")]

use alphacl::app::LabApp;
use alphacl::loss::LossKind;
use egui_kittest::kittest::Queryable as _;

mod ui_common;
use ui_common::harness;

#[test]
fn step_button_takes_exactly_one_step() {
    let mut h = harness(LabApp::default());
    h.run();
    assert_eq!(h.state().view().map(|t| t.step_count()), Some(0));
    h.get_by_label("Step").click();
    h.run();
    let t = h.state().view().expect("trainer");
    assert_eq!(t.step_count(), 1);
    assert!(t.history.loss[0].is_finite());
    assert!(!h.state().running);
}

#[test]
fn choosing_a_loss_switches_live_without_reset() {
    let mut h = harness(LabApp::default());
    h.run();
    for _ in 0..3 {
        h.get_by_label("Step").click();
        h.run();
    }
    h.get_by_label("α-CL direct").click();
    h.run();
    let t = h.state().view().expect("trainer");
    assert_eq!(t.config.loss.kind, LossKind::AclDirect);
    assert_eq!(
        t.step_count(),
        3,
        "switching the loss must not reset the run"
    );
    assert_eq!(t.history.loss_changes.len(), 2);
}

#[test]
fn play_then_pause_toggles_running() {
    let mut h = harness(LabApp::default());
    h.run();
    h.get_by_label("Play").click();
    h.step();
    h.step();
    assert!(h.state().running);
    assert!(h.state().view().is_some_and(|t| t.step_count() > 0));
    h.get_by_label("Pause").click();
    h.step();
    h.step();
    assert!(!h.state().running);
    let steps = h.state().view().map(|t| t.step_count());
    h.step();
    assert_eq!(
        h.state().view().map(|t| t.step_count()),
        steps,
        "paused runs do not step"
    );
}

#[test]
fn invalid_data_spec_is_rejected_with_reason_and_run_untouched() {
    let mut app = LabApp::default();
    let before = app.controls.config.clone();
    app.controls.config.data = alphacl::data::DataSpec::parse("gauss:n=32").expect("spec");
    let mut h = harness(app);
    h.run();
    h.get_by_label_contains("Cannot run: batch (64) is larger than the training set (32 samples)");
    assert_eq!(h.state().view().map(|t| t.config.batch), Some(before.batch));
}

#[test]
fn every_tab_renders_with_data() {
    let mut app = LabApp::default();
    for _ in 0..30 {
        app.single_step();
    }
    let mut h = harness(app);
    h.run();
    h.get_by_label("α heat map").click();
    h.run();
    h.get_by_label_contains("sparsity");
    h.get_by_label("Curves").click();
    h.run();
    h.get_by_label_contains("linear-probe accuracy");
}

#[test]
fn hold_30_fps_toggles_and_survives_a_reset() {
    let mut h = harness(LabApp::default());
    h.run();
    assert!(h.state().controls.speed.hold_fps, "on by default");
    h.get_by_label("hold 30 fps").click();
    h.run();
    assert!(!h.state().controls.speed.hold_fps);
    h.get_by_label("Reset").click();
    h.run();
    assert!(
        !h.state().controls.speed.hold_fps,
        "a reset keeps the speed settings"
    );
    // Off, the whole speed setting trains every frame.
    h.get_by_label("Play").click();
    h.run_steps(3);
    let want = f64::from(h.state().controls.speed.budget_ms);
    assert_eq!(h.state().stats.budget_ms, want);
}

/// Issue 17 item 5: each loss keeps its own last hyper-parameters: τ set for one loss does
/// not leak into another (InfoNCE at τ = 0.04 after the quadratic min player).
#[test]
fn each_loss_keeps_its_own_hyper_parameters() {
    use alphacl::app::views::CompareAction;
    use alphacl::loss::LossSpec;
    let spec = |s: &str| LossSpec::parse(s).expect("spec");
    let mut h = harness(LabApp::from_hash("loss=infonce:tau=0.2,eps=0.5"));
    h.run();
    let loss = |h: &egui_kittest::Harness<'_, LabApp>| {
        let t = h.state().view().expect("trainer");
        assert_eq!(t.config.loss, h.state().controls.config.loss, "panel = run");
        t.config.loss.clone()
    };
    // A loss never chosen before starts from its own defaults, not from InfoNCE's τ.
    h.get_by_label("α-CL quadratic (sparse)").click();
    h.run();
    assert_eq!(loss(&h), LossSpec::defaults(LossKind::AclQuadratic));
    // The quadratic min player tuned to a τ that only makes sense for it…
    h.state_mut()
        .compare_action(CompareAction::SetLoss(0, spec("acl-quadratic:tau=0.04")));
    h.run();
    // …and back to InfoNCE: its own τ = 0.2 and ε = 0.5 come back.
    h.get_by_label("InfoNCE").click();
    h.run();
    assert_eq!(loss(&h), spec("infonce:tau=0.2,eps=0.5"));
    // The quadratic one remembers τ = 0.04.
    h.get_by_label("α-CL quadratic (sparse)").click();
    h.run();
    assert_eq!(loss(&h), spec("acl-quadratic:tau=0.04"));
    // A reset keeps what each loss remembers.
    h.get_by_label("Reset").click();
    h.run();
    h.get_by_label("InfoNCE").click();
    h.run();
    assert_eq!(loss(&h), spec("infonce:tau=0.2,eps=0.5"));
}
