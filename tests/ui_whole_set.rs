//! The lab's whole-set evaluation as a user meets it (egui_kittest, natively: the engines run
//! in the frame): a run on data larger than the evaluation subsets gets its whole-set points and
//! pixel baselines without training, Compare's "Final evaluation" evaluates every run at its
//! current step, and on small data the button is disabled (the subsets are the whole set).
#![cfg(feature = "app")]

mod ui_common;

use alphacl::app::{LabApp, Tab};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use ui_common::harness;

/// More samples than the subsets (1 024 training, 512 held-out).
const BIG: &str = "data=gauss:k=4,d=8,n=4000&encoder=mlp:hidden=16,out=8&batch=32&eval=10";

fn lab(hash: &str) -> Harness<'static, LabApp> {
    let mut app = LabApp::from_hash(hash);
    assert!(app.error.is_none(), "{:?}", app.error);
    app.tab = Tab::Compare;
    let mut h = harness(app);
    h.run_steps(2);
    h
}

/// Frames until `done` holds (at most `limit`).
fn frames_until(h: &mut Harness<'_, LabApp>, limit: usize, done: impl Fn(&LabApp) -> bool) {
    for _ in 0..limit {
        if done(h.state()) {
            return;
        }
        h.step();
    }
    assert!(done(h.state()), "not reached in {limit} frames");
}

#[test]
fn final_evaluation_evaluates_every_run_on_the_whole_set_at_its_step() {
    let mut h = lab(&format!("{BIG}&run2=loss=acl-direct:tau=0.5,p=4,eps=0"));
    // Paused, each run measures the baselines and its start on the whole set.
    frames_until(&mut h, 3_000, |app| {
        app.runs
            .iter()
            .all(|r| r.view.history.whole_set.len() == 1 && r.view.whole_set_progress.is_none())
    });
    for r in &h.state().runs {
        assert_eq!(r.view.step_count(), 0);
        assert_eq!(r.view.history.whole_set[0].step, 0);
        assert!(r.view.history.whole_set_baselines.is_some());
    }
    // A few steps, then Final evaluation.
    for _ in 0..5 {
        h.state_mut().single_step();
    }
    h.run_steps(2);
    h.get_by_label("Final evaluation (whole held-out set)")
        .click();
    frames_until(&mut h, 3_000, |app| {
        app.runs
            .iter()
            .all(|r| r.view.history.whole_set.last().is_some_and(|p| p.step == 5))
    });
    assert!(h.state().runs.iter().all(|r| r.view.step_count() == 5));
    // The line under the table reports both runs at step 5.
    h.run_steps(2);
    assert_eq!(h.query_all_by_label_contains("@5").count(), 2);
}

#[test]
fn on_small_data_the_final_evaluation_is_not_needed() {
    let h = lab("run2=loss=acl-direct:tau=0.5,p=4,eps=0");
    let b = h.get_by_label("Final evaluation (whole held-out set)");
    assert!(format!("{b:?}").contains("disabled"), "{b:?}");
    assert!(
        h.state()
            .runs
            .iter()
            .all(|r| r.view.subsets_are_whole_sets())
    );
}
