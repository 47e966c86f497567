//! Whole-set evaluation a slice at a time (`train::whole_set`) and in the run engine: it must
//! measure exactly what the trainer's whole-set protocol measures, however it is sliced, and
//! the engine must run it beside training and deliver it to the page's mirror.

use std::sync::Arc;
use std::time::Duration;

use alphacl::engine::{Command, Event, RunEngine, RunMirror, WholeSetTarget, decode, encode};
use alphacl::train::whole_set::{Features, WholeSetEval};
use alphacl::train::{EvalProtocol, RunConfig, Trainer};

/// More samples than the lab's fixed subsets (1 024 training, 512 held-out rows), so the
/// whole-set protocol differs from the subsets.
const BIG: &str = "data=gauss:k=4,d=8,n=4000&encoder=mlp:hidden=16,out=8&batch=32&eval=10&seed=5";
/// Small enough that the subsets are the whole splits.
const SMALL: &str = "data=gauss:k=4,d=8,n=256&encoder=mlp:hidden=16,out=8&batch=32&eval=10&seed=5";

fn trainer(text: &str, steps: usize) -> Trainer {
    let mut t = Trainer::new(RunConfig::parse(text).expect("config")).expect("trainer");
    for _ in 0..steps {
        t.step().expect("step");
    }
    t
}

#[test]
fn sliced_whole_set_evaluation_equals_the_trainers_full_protocol() {
    let mut t = trainer(BIG, 30);
    assert!(!t.subsets_are_whole_sets());
    // The sliced evaluation of the frozen parameters, in units as small as they come.
    let mut eval = WholeSetEval::of_encoder(&t.encoder, t.config.normalize, 30, &t.data);
    let mut slices = 0;
    let mut last_progress = 0.0;
    let sliced = loop {
        slices += 1;
        let p = eval.progress(&t.data);
        assert!(
            p >= last_progress,
            "progress never goes back ({p} < {last_progress})"
        );
        last_progress = p;
        if let Some(r) = eval.advance(&t.data, Duration::ZERO) {
            break r;
        }
    };
    assert!(
        slices > 10,
        "zero-budget advances do one small unit each ({slices})"
    );
    assert_eq!(eval.progress(&t.data), 1.0);
    // The trainer's own whole-set evaluation (the CLI's protocol) of the same parameters.
    t.set_eval_protocol(EvalProtocol::Full);
    t.refresh_snapshot();
    let full = *t.history.evals.last().expect("an evaluation");
    assert_eq!(sliced.step, 30);
    assert_eq!(sliced.knn_acc, full.knn_acc, "kNN on the whole split");
    if let Some(p) = full.probe_acc {
        assert_eq!(sliced.probe_acc, Some(p), "linear probe on the whole split");
    }
    assert!(sliced.probe_acc.is_some_and(|p| (0.0..=1.0).contains(&p)));
    // The input baselines, sliced or not, equal the trainer's under the whole-set protocol.
    let b = t.input_baselines();
    let raw = WholeSetEval::new(Features::Raw, 0, &t.data).finish(&t.data);
    let centred = WholeSetEval::new(Features::Centred, 0, &t.data).finish(&t.data);
    assert_eq!(raw.knn_acc, b.raw_knn);
    assert_eq!(centred.knn_acc, b.centred_knn);
    assert_eq!(raw.probe_acc, None, "no probe of the inputs");
}

#[test]
fn the_frozen_copy_does_not_follow_training() {
    let mut t = trainer(BIG, 5);
    let mut eval = WholeSetEval::of_encoder(&t.encoder, t.config.normalize, 5, &t.data);
    eval.advance(&t.data, Duration::ZERO);
    for _ in 0..40 {
        t.step().expect("step");
    }
    let during = eval.finish(&t.data);
    let after = WholeSetEval::of_encoder(&t.encoder, t.config.normalize, 45, &t.data);
    // Evaluating the step-5 parameters again gives the same result as the evaluation that
    // ran while training moved on.
    let t5 = trainer(BIG, 5);
    let again =
        WholeSetEval::of_encoder(&t5.encoder, t5.config.normalize, 5, &t5.data).finish(&t5.data);
    assert_eq!(during, again);
    assert_eq!(after.step(), 45);
}

fn start(text: &str, play: bool) -> (RunEngine, RunMirror) {
    let cfg = RunConfig::parse(text).expect("config");
    let mut e = RunEngine::new();
    e.handle(
        Command::Start {
            config: cfg.to_text(),
            generation: 1,
            play,
        },
        None,
    );
    let data = cfg.data.generate(cfg.seed).expect("data");
    let m = RunMirror::new(cfg, Arc::new(data), 1);
    (e, m)
}

fn deliver(e: &mut RunEngine, m: &mut RunMirror) {
    let events: Vec<Event> = decode(&encode(&e.take_events())).expect("decodes");
    for ev in events {
        if let Event::Update(u) = ev {
            assert!(m.apply(*u));
        }
    }
}

/// Pumps until `done` holds (at most `limit` slices), delivering every few slices.
fn pump_until(
    e: &mut RunEngine,
    m: &mut RunMirror,
    limit: usize,
    done: impl Fn(&RunMirror) -> bool,
) -> bool {
    for k in 0..limit {
        e.pump(Duration::from_micros(500));
        if k % 4 == 0 {
            deliver(e, m);
            if done(m) {
                return true;
            }
        }
    }
    deliver(e, m);
    done(m)
}

#[test]
fn a_paused_engine_measures_the_baselines_and_the_start_on_the_whole_set() {
    let (mut e, mut m) = start(BIG, false);
    assert!(
        e.busy(),
        "the whole-set evaluation is work even while paused"
    );
    deliver(&mut e, &mut m);
    let first = m.whole_set_progress.expect("an evaluation in progress");
    assert_eq!(
        first.what,
        WholeSetTarget::RawInputs,
        "the baselines come first"
    );
    assert!(pump_until(&mut e, &mut m, 5_000, |m| !m
        .history
        .whole_set
        .is_empty()));
    let t = e.trainer().expect("run");
    assert_eq!(t.step_count(), 0, "evaluating never trains");
    assert_eq!(m.history.whole_set, t.history.whole_set);
    assert_eq!(m.history.whole_set[0].step, 0);
    let b = m.history.whole_set_baselines.expect("baselines");
    assert!(b.raw_knn > 0.0 && b.centred_knn > 0.0);
    // Nothing more to do while paused.
    assert!(pump_until(&mut e, &mut m, 100, |m| m
        .whole_set_progress
        .is_none()));
    assert!(!e.busy());
    // Asked for, the current parameters are evaluated (after a few steps, still paused).
    for _ in 0..3 {
        e.handle(Command::Step, None);
    }
    e.handle(Command::EvaluateWholeSet, None);
    assert!(e.busy());
    assert!(pump_until(&mut e, &mut m, 5_000, |m| {
        m.history.whole_set.last().is_some_and(|p| p.step == 3)
    }));
    assert_eq!(m.step_count(), 3);
    // Asked again at the same step: nothing to do.
    e.handle(Command::EvaluateWholeSet, None);
    assert!(!e.busy());
}

#[test]
fn while_playing_whole_set_evaluations_run_beside_training() {
    let (mut e, mut m) = start(BIG, true);
    assert!(pump_until(&mut e, &mut m, 200_000, |m| m
        .history
        .whole_set
        .len()
        >= 2));
    let t = e.trainer().expect("run");
    assert_eq!(m.history.whole_set, t.history.whole_set);
    let steps: Vec<usize> = m.history.whole_set.iter().map(|p| p.step).collect();
    assert!(
        steps.windows(2).all(|w| w[0] < w[1]),
        "steps increase: {steps:?}"
    );
    // Training went on while the evaluations ran, and they kept to their share of the time.
    assert!(t.step_count() > *steps.last().unwrap_or(&0));
    assert!(t.train_seconds() >= 2.0 * (steps.len() - 1) as f64);
}

#[test]
fn small_data_needs_no_whole_set_evaluation() {
    let (mut e, mut m) = start(SMALL, false);
    assert!(!e.busy());
    deliver(&mut e, &mut m);
    assert!(m.whole_set_progress.is_none());
    e.handle(Command::EvaluateWholeSet, None);
    assert!(
        !e.busy(),
        "the regular evaluations already use every sample"
    );
    assert!(e.trainer().expect("run").subsets_are_whole_sets());
}
