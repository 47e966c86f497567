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

#[test]
fn lowering_the_rate_after_a_divergence_shows_the_new_rate_in_the_optimiser_field() {
    let cfg = RunConfig::parse("optim=sgd:lr=100&normalize=0").unwrap();
    let mut h = harness(LabApp::new(cfg));
    h.run();
    let field = |h: &egui_kittest::Harness<'_, LabApp>| {
        h.get_by_label("Optimiser spec").value().unwrap_or_default()
    };
    assert_eq!(field(&h), "sgd:lr=100,momentum=0.9");
    h.get_by_label("Play").click();
    for _ in 0..200 {
        h.run();
        if h.state().view().is_some_and(|v| v.failure.is_some()) {
            break;
        }
    }
    assert!(
        matches!(
            h.state().view().and_then(|v| v.failure.clone()),
            Some(TrainError::Diverged { .. })
        ),
        "{:?}",
        h.state().view().map(|v| v.failure.clone())
    );
    h.run();
    h.get_by_label("Lower the learning rate ×0.1 and continue")
        .click();
    h.run();
    h.run();
    assert_eq!(field(&h), "sgd:lr=10,momentum=0.9");
    assert_eq!(
        h.state().controls.config.optim.to_text(),
        "sgd:lr=10,momentum=0.9"
    );
}
