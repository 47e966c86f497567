//! The failure banner offers what helps: a divergence offers "lower the learning rate ×0.1
//! and continue", a degenerate output (all-zero weights) offers a reset and says why a lower
//! rate cannot help (issue 18, item 11).
#![cfg(feature = "app")]

use alphacl::app::LabApp;
use alphacl::train::{RunConfig, TrainError, Trainer};
use egui_kittest::kittest::Queryable as _;

mod ui_common;
use ui_common::harness;

#[test]
fn a_degenerate_output_offers_a_reset_not_a_lower_learning_rate() {
    let cfg = RunConfig::default();
    // All-zero weights for the default encoder, exported by a trainer of the same config.
    let mut t = Trainer::new(cfg.clone()).unwrap();
    for (p, _) in t.encoder.params_and_grads() {
        p.iter_mut().for_each(|v| *v = 0.0);
    }
    let zeros = t.weights_json();
    let mut h = harness(LabApp::new(cfg));
    h.run();
    h.state_mut().import_weights("zeros.json", zeros.as_bytes());
    h.run();
    h.get_by_label("Step").click();
    h.run();
    h.run();
    assert!(
        matches!(
            h.state().view().and_then(|v| v.failure.clone()),
            Some(TrainError::Degenerate { .. })
        ),
        "{:?}",
        h.state().view().map(|v| v.failure.clone())
    );
    assert!(
        h.query_by_label_contains("Lower the learning rate")
            .is_none(),
        "a lower rate cannot fix all-zero weights"
    );
    h.get_by_label_contains("lower learning rate cannot help");
    h.get_by_label_contains("Reset (re-initialise the encoder)")
        .click();
    h.run();
    h.run();
    let v = h.state().view().expect("a run");
    assert!(v.failure.is_none(), "{:?}", v.failure);
    assert_eq!(v.step_count(), 0);
    assert!(h.state().error.is_none());
}
