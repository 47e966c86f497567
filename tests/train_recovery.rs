//! Issue 18, item 4: "lower the learning rate ×0.1 and continue" recovers a diverged run —
//! resuming rolls back to the last finite parameters and optimiser state — and the config text
//! shows the new rate.

use alphacl::train::{RunConfig, TrainError, Trainer};

/// Unnormalised nt-xent at SGD lr 100 diverges within a few steps; at lr 0.01 it trains.
const EXPLODING: &str = "normalize=0&loss=nt-xent:tau=0.5&optim=sgd:lr=100&batch=32&seed=1";

fn diverge(t: &mut Trainer) -> usize {
    for _ in 0..500 {
        if let Err(e) = t.step() {
            let TrainError::Diverged { step, .. } = e else {
                panic!("{e}")
            };
            return step;
        }
    }
    panic!("no divergence in 500 steps");
}

fn all_params(t: &mut Trainer) -> Vec<f32> {
    t.encoder
        .params_and_grads()
        .iter()
        .flat_map(|(p, _)| p.to_vec())
        .collect()
}

fn max_abs_param(t: &mut Trainer) -> f32 {
    t.encoder
        .params_and_grads()
        .iter()
        .flat_map(|(p, _)| p.iter())
        .fold(0.0f32, |m, v| m.max(v.abs()))
}

#[test]
fn set_lr_then_resume_rolls_back_and_the_run_trains_on() {
    let mut t = Trainer::new(RunConfig::parse(EXPLODING).unwrap()).unwrap();
    let step = diverge(&mut t);
    let lr = 100.0 * 0.1f64.powi(4);
    t.set_lr(lr);
    t.resume();
    assert!(
        t.recovery_step().is_some_and(|s| s < step),
        "{:?}",
        t.recovery_step()
    );
    for _ in 0..100 {
        let r = t.step().unwrap_or_else(|e| panic!("after recovery: {e}"));
        assert!(r.loss.is_finite());
    }
    assert!(max_abs_param(&mut t) < 1e6, "{}", max_abs_param(&mut t));
    assert!(
        t.config.to_text().contains("optim=sgd:lr=0.01"),
        "{}",
        t.config.to_text()
    );
    assert_eq!(t.optim.spec.lr(), lr);
}

#[test]
fn recover_with_lr_lowers_the_rate_in_the_config_text_and_recovers() {
    let mut t = Trainer::new(RunConfig::parse(EXPLODING).unwrap()).unwrap();
    let step = diverge(&mut t);
    // ×0.1 at a time, as the app's button does, until the run trains on.
    let mut lr = 100.0;
    let mut tries = 0;
    loop {
        lr *= 0.1;
        tries += 1;
        t.recover_with_lr(lr);
        assert!(t.failure.is_none());
        if (0..50).all(|_| t.step().is_ok()) {
            break;
        }
        assert!(tries < 8, "no recovery down to lr {lr}");
    }
    assert!(t.step_count() > step);
    assert!(
        t.config
            .to_text()
            .contains(&format!("lr={}", alphacl::spec::fmt_num(lr)))
    );
}

#[test]
fn a_divergence_at_the_first_step_keeps_the_initial_parameters() {
    let mut t = Trainer::new(RunConfig::parse("batch=16").unwrap()).unwrap();
    let init = t.encoder.params_and_grads()[0].0.to_vec();
    t.encoder.params_and_grads()[0].0[0] = f32::NAN;
    assert!(t.step().is_err());
    assert_eq!(t.recovery_step(), None);
    assert_eq!(t.rollback(), None);
    t.encoder.params_and_grads()[0].0[0] = init[0];
    t.resume();
    t.step().unwrap();
}

#[test]
fn rollback_restores_parameters_bit_exactly() {
    let mut t =
        Trainer::new(RunConfig::parse("batch=16&encoder=mlp:hidden=32,out=8").unwrap()).unwrap();
    for _ in 0..alphacl::train::trainer::CHECKPOINT_EVERY {
        t.step().unwrap();
    }
    // The checkpoint is taken before the update of the step after a multiple of the period.
    t.step().unwrap();
    let at = t.recovery_step().unwrap();
    assert_eq!(at, alphacl::train::trainer::CHECKPOINT_EVERY);
    let mut twin = Trainer::new(t.config.clone()).unwrap();
    for _ in 0..at {
        twin.step().unwrap();
    }
    for _ in 0..3 {
        t.step().unwrap();
    }
    assert_eq!(t.rollback(), Some(at));
    assert_eq!(all_params(&mut t), all_params(&mut twin));
    assert_eq!(t.optim.steps(), twin.optim.steps());
}

/// The cost of the recovery copies on the standard workload's shapes (768 → 512 → 128, B =
/// 256, Adam): `cargo test --release --test train_recovery -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn checkpoint_cost_on_the_standard_workload() {
    let cfg = "data=gauss:k=8,d=768,n=4096&encoder=mlp:hidden=512,out=128&batch=256\
               &optim=adam:lr=0.001&eval=1000000";
    let mut t = Trainer::new(RunConfig::parse(cfg).unwrap()).unwrap();
    t.step().unwrap();
    let n = 100;
    let start = std::time::Instant::now();
    for _ in 0..n {
        t.step().unwrap();
    }
    let step = start.elapsed().as_secs_f64() / n as f64;
    let (mut p, mut o) = (Vec::new(), alphacl::nn::OptimState::default());
    let start = std::time::Instant::now();
    for _ in 0..n {
        t.encoder.save_state(&mut p);
        t.optim.save_state(&mut o);
    }
    let copy = start.elapsed().as_secs_f64() / n as f64;
    let every = alphacl::train::trainer::CHECKPOINT_EVERY as f64;
    eprintln!(
        "step {:.3} ms (checkpoint included), one checkpoint {:.3} ms: {:.2} % of a step, {:.2} % every {every} steps",
        step * 1e3,
        copy * 1e3,
        100.0 * copy / step,
        100.0 * copy / step / every
    );
}

#[test]
fn all_zero_weights_are_named_as_such_not_as_a_learning_rate_problem() {
    let mut t = Trainer::new(RunConfig::parse("batch=16").unwrap()).unwrap();
    for (p, _) in t.encoder.params_and_grads() {
        p.iter_mut().for_each(|v| *v = 0.0);
    }
    let e = t.step().unwrap_err();
    assert!(matches!(e, TrainError::Degenerate { step: 1, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("zero norm") && msg.contains("all-zero weights"),
        "{msg}"
    );
    assert!(!msg.contains("learning rate"), "{msg}");
    assert_eq!(t.failure, Some(e));
}
