//! The trainer: validation, determinism, failure handling and resumption, live changes.

use alphacl::loss::LossSpec;
use alphacl::train::{RunConfig, TrainError, Trainer};

const SMALL: &str = "data=gauss:k=4,d=8,n=256&encoder=mlp:hidden=32,out=8&batch=32&eval=10&seed=3";

#[test]
fn impossible_combinations_are_rejected_with_a_reason() {
    let e = RunConfig::parse("data=gauss:k=4,d=8&encoder=cnn:small")
        .unwrap_err()
        .0;
    assert!(e.contains("image"), "{e}");
    let e = RunConfig::parse("data=gauss:k=4,d=8,n=100&batch=128")
        .unwrap_err()
        .0;
    assert!(e.contains("larger"), "{e}");
    let e = RunConfig::parse("optim=adam:lr=0").unwrap_err().0;
    assert!(e.starts_with("optim:"), "{e}");
    let e = RunConfig::parse("encoder=mlp:hidden=0").unwrap_err().0;
    assert!(e.starts_with("encoder:"), "{e}");
}

#[test]
fn same_seed_same_losses_other_seed_other_losses() {
    let run = |text: &str| {
        let mut t = Trainer::new(RunConfig::parse(text).unwrap()).unwrap();
        (0..15)
            .map(|_| t.step().unwrap().loss)
            .collect::<Vec<f32>>()
    };
    let a = run(SMALL);
    assert_eq!(a, run(SMALL));
    let b = run(&SMALL.replace("seed=3", "seed=4"));
    assert_ne!(a, b);
}

#[test]
fn training_lowers_the_loss_and_records_history() {
    let mut t = Trainer::new(RunConfig::parse(SMALL).unwrap()).unwrap();
    for _ in 0..120 {
        t.step().unwrap();
    }
    let h = &t.history;
    assert_eq!(h.loss.len(), 120);
    assert_eq!(t.step_count(), 120);
    let first: f32 = h.loss[..10].iter().sum::<f32>() / 10.0;
    let last: f32 = h.loss[110..].iter().sum::<f32>() / 10.0;
    assert!(last < first - 0.05, "loss did not fall: {first} → {last}");
    // Evaluations at step 0 and every 10 steps.
    let steps: Vec<usize> = h.evals.iter().map(|e| e.step).collect();
    assert_eq!(steps, (0..=120).step_by(10).collect::<Vec<_>>());
    assert!(h.time.windows(2).all(|w| w[1] >= w[0]));
    assert_eq!(t.snapshot.step, 120);
    assert_eq!(t.snapshot.alpha.dim(), (64, 64));
    assert_eq!(h.to_csv().lines().count(), 121);
}

#[test]
fn non_finite_values_stop_the_run_keep_history_and_allow_resume() {
    let mut t = Trainer::new(RunConfig::parse(SMALL).unwrap()).unwrap();
    for _ in 0..5 {
        t.step().unwrap();
    }
    let saved = t.encoder.params_and_grads()[0].0[0];
    t.encoder.params_and_grads()[0].0[0] = f32::NAN;
    let err = t.step().unwrap_err();
    match &err {
        TrainError::Diverged { step, what } => {
            assert_eq!(*step, 6);
            assert!(!what.is_empty());
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("step 6"), "{err}");
    assert_eq!(t.failure, Some(err.clone()));
    assert_eq!(
        t.history.loss.len(),
        5,
        "history is kept, the failed step is not recorded"
    );
    assert_eq!(t.step().unwrap_err(), err, "a failed run stays paused");
    // The user fixes the problem (here: the weight) and continues.
    t.encoder.params_and_grads()[0].0[0] = saved;
    t.set_loss(LossSpec::parse("acl-direct:tau=0.5,p=4,eps=0").unwrap());
    t.resume();
    let r = t.step().unwrap();
    assert_eq!(r.step, 6);
    assert_eq!(t.history.loss.len(), 6);
    assert_eq!(t.history.loss_changes.last().unwrap().0, 6);
}

#[test]
fn an_exploding_learning_rate_is_caught_as_divergence() {
    let text = "data=gauss:k=4,d=8,n=256&encoder=deep-linear:L=3,width=8,wnorm=none&normalize=0\
                &loss=triplet-contrastive&optim=sgd:lr=100,momentum=0.99&batch=32&seed=1";
    let mut t = Trainer::new(RunConfig::parse(text).unwrap()).unwrap();
    let mut failed = None;
    for _ in 0..500 {
        if let Err(e) = t.step() {
            failed = Some(e);
            break;
        }
    }
    let Some(TrainError::Diverged { step, .. }) = failed else {
        panic!("expected a divergence, got {failed:?}");
    };
    assert_eq!(t.history.loss.len(), step - 1);
    // Lowering the learning rate does not un-diverge the weights, but the run can be reset.
    t.set_lr(1e-3);
    assert!(t.failure.is_some());
}

#[test]
fn run_for_uses_its_budget_and_lr_changes_apply() {
    let mut t = Trainer::new(RunConfig::parse(SMALL).unwrap()).unwrap();
    let n = t.run_for(web_time::Duration::from_millis(30)).unwrap();
    assert!(n >= 1);
    assert_eq!(t.step_count(), n);
    t.set_lr(0.5);
    assert_eq!(t.config.optim.lr(), 0.5);
    assert_eq!(t.optim.spec.lr(), 0.5);
}
