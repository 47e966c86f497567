//! Optimisers, schedules, weight constraints and the encoder/optimiser text forms, against
//! closed forms.

use alphacl::nn::{Encoder, EncoderSpec, OptimSpec, Optimizer};
use alphacl::rng::Rng;

fn one_step(spec: &str, theta: &mut [f32], g: &[f32]) -> Optimizer {
    let mut o = Optimizer::new(OptimSpec::parse(spec).unwrap());
    o.step(vec![(theta, g)]);
    o
}

#[test]
fn sgd_plain_momentum_and_nesterov_follow_their_recurrences() {
    let g = [0.5f32, -2.0];
    // Two steps with the same gradient: m1 = g, m2 = μ g + g.
    let (lr, mu) = (0.1f32, 0.9f32);
    for nesterov in [false, true] {
        let mut th = [1.0f32, 1.0];
        let spec = format!("sgd:lr=0.1,momentum=0.9,nesterov={}", u8::from(nesterov));
        let mut o = Optimizer::new(OptimSpec::parse(&spec).unwrap());
        o.step(vec![(&mut th[..], &g[..])]);
        o.step(vec![(&mut th[..], &g[..])]);
        for i in 0..2 {
            let (m1, m2) = (g[i], mu * g[i] + g[i]);
            let want = if nesterov {
                1.0 - lr * (g[i] + mu * m1) - lr * (g[i] + mu * m2)
            } else {
                1.0 - lr * m1 - lr * m2
            };
            assert!(
                (th[i] - want).abs() < 1e-6,
                "nesterov={nesterov}: {} vs {want}",
                th[i]
            );
        }
    }
    let mut th = [1.0f32, 1.0];
    one_step("sgd:lr=0.1,momentum=0", &mut th, &g);
    assert!((th[0] - 0.95).abs() < 1e-7 && (th[1] - 1.2).abs() < 1e-7);
}

#[test]
fn adam_first_step_moves_each_coordinate_by_lr_times_sign() {
    let mut th = [1.0f32, -3.0, 0.5];
    let g = [0.01f32, -5.0, 300.0];
    one_step("adam:lr=0.01", &mut th, &g);
    let want = [0.99f32, -2.99, 0.49];
    for (a, b) in th.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn adamw_decay_is_decoupled_and_adam_decay_is_coupled() {
    // Zero gradient: AdamW only shrinks θ by the factor (1 − ηλ) …
    let mut th = [2.0f32, -4.0];
    one_step("adamw:lr=0.1,wd=0.5", &mut th, &[0.0, 0.0]);
    assert!((th[0] - 2.0 * 0.95).abs() < 1e-6 && (th[1] + 4.0 * 0.95).abs() < 1e-6);
    // … while Adam's L2 decay enters the moments, so the first step is η·sign(θ).
    let mut th = [2.0f32, -4.0];
    one_step("adam:lr=0.1,wd=0.5", &mut th, &[0.0, 0.0]);
    assert!((th[0] - 1.9).abs() < 1e-6 && (th[1] + 3.9).abs() < 1e-6);
}

#[test]
fn adam_minimises_a_quadratic() {
    // f(θ) = ½ Σ c_i (θ_i − t_i)², gradient c ⊙ (θ − t).
    let c = [1.0f32, 10.0, 0.1];
    let t = [3.0f32, -1.0, 2.0];
    let mut th = [0.0f32; 3];
    let mut o = Optimizer::new(OptimSpec::parse("adam:lr=0.05").unwrap());
    for _ in 0..3000 {
        let g: Vec<f32> = (0..3).map(|i| c[i] * (th[i] - t[i])).collect();
        o.step(vec![(&mut th[..], &g[..])]);
    }
    for i in 0..3 {
        assert!((th[i] - t[i]).abs() < 1e-2, "θ{i} = {}", th[i]);
    }
}

#[test]
fn warmup_and_cosine_schedule_values() {
    let s = OptimSpec::parse("sgd:lr=0.2,sched=cosine,warmup=10,total=110").unwrap();
    assert!((s.lr_at(5) - 0.1).abs() < 1e-12);
    assert!((s.lr_at(10) - 0.2).abs() < 1e-12);
    assert!(
        (s.lr_at(60) - 0.1).abs() < 1e-12,
        "midpoint of the cosine is η/2"
    );
    assert!(s.lr_at(110).abs() < 1e-12 && s.lr_at(500).abs() < 1e-12);
    let c = OptimSpec::parse("adam:lr=0.01,warmup=4").unwrap();
    assert!((c.lr_at(1) - 0.0025).abs() < 1e-12 && (c.lr_at(1000) - 0.01).abs() < 1e-12);
    assert!(OptimSpec::parse("sgd:sched=cosine,warmup=100,total=50").is_err());
}

#[test]
fn optimiser_and_encoder_text_forms_round_trip_and_reject_bad_values() {
    for t in [
        "adam:lr=0.001",
        "adamw:lr=0.002,wd=0.05",
        "sgd:lr=0.1,momentum=0.9,nesterov=1,wd=0.0005,sched=cosine,total=5000,warmup=100",
    ] {
        let s = OptimSpec::parse(t).unwrap();
        assert_eq!(OptimSpec::parse(&s.to_text()).unwrap(), s, "{t}");
    }
    for t in [
        "linear:out=8",
        "deep-linear:L=3,width=16",
        "deep-linear:L=2,width=6,out=3,wnorm=none",
        "mlp:hidden=512,out=128",
        "mlp:hidden=64,out=16,act=tanh,wnorm=frob",
        "relu2:hidden=10,out=20",
        "relu2:hidden=10,out=20,act=none,wnorm=frob",
        "cnn:small,out=64",
    ] {
        let s = EncoderSpec::parse(t).unwrap();
        assert_eq!(s.to_text(), t);
        assert_eq!(EncoderSpec::parse(&s.to_text()).unwrap(), s);
    }
    assert_eq!(
        EncoderSpec::parse("cnn:small").unwrap().to_text(),
        "cnn:small,out=64"
    );
    let e = EncoderSpec::parse("mlp:hidden=8,act=sigmoid")
        .unwrap_err()
        .0;
    assert!(e.contains("relu") && e.contains("tanh"), "{e}");
    assert!(
        EncoderSpec::parse("transformer")
            .unwrap_err()
            .0
            .contains("known:")
    );
    assert!(OptimSpec::parse("adam:lr=-1").is_err());
    assert!(OptimSpec::parse("rmsprop").unwrap_err().0.contains("adamw"));
}

#[test]
fn cnn_requires_image_shape() {
    let s = EncoderSpec::parse("cnn:small").unwrap();
    let e = s
        .build::<f32>(768, None, &mut Rng::seed_from_u64(1))
        .unwrap_err();
    assert!(e.0.contains("image"), "{e}");
    assert!(
        s.build::<f32>(768, Some((3, 8, 8)), &mut Rng::seed_from_u64(1))
            .is_err()
    );
    let enc: Encoder<f32> = s
        .build(768, Some((3, 16, 16)), &mut Rng::seed_from_u64(1))
        .unwrap();
    assert_eq!(enc.out_dim(), 64);
}

fn frob(w: &ndarray::Array2<f32>) -> f32 {
    w.iter().map(|v| v * v).sum::<f32>().sqrt()
}

#[test]
fn weight_constraints_hold_after_init_and_after_steps() {
    let mut rng = Rng::seed_from_u64(3);
    let mut deep: Encoder<f32> = EncoderSpec::parse("deep-linear:L=3,width=6")
        .unwrap()
        .build(8, None, &mut rng)
        .unwrap();
    let mut relu2: Encoder<f32> = EncoderSpec::parse("relu2:hidden=10,out=20")
        .unwrap()
        .build(10, None, &mut rng)
        .unwrap();
    let x = ndarray::Array2::from_shape_simple_fn((16, 8), || rng.normal() as f32);
    let x10 = ndarray::Array2::from_shape_simple_fn((16, 10), || rng.normal() as f32);
    let mut o1 = Optimizer::new(OptimSpec::parse("sgd:lr=0.5").unwrap());
    let mut o2 = Optimizer::new(OptimSpec::parse("sgd:lr=0.5").unwrap());
    for step in 0..3 {
        for l in 0..3 {
            let w = deep.weight_matrix(l).unwrap();
            assert!(
                (frob(&w) - 1.0).abs() < 1e-5,
                "step {step} layer {l}: {}",
                frob(&w)
            );
        }
        let w1 = relu2.weight_matrix(0).unwrap();
        for row in w1.rows() {
            assert!((row.dot(&row).sqrt() - 1.0).abs() < 1e-5);
        }
        assert!((frob(&relu2.weight_matrix(1).unwrap()) - 1.0).abs() < 1e-5);
        // A gradient step breaks the norms; the constraint restores them.
        let z = deep.forward(&x);
        deep.backward(&z);
        o1.step(deep.params_and_grads());
        deep.apply_constraint();
        let z = relu2.forward(&x10);
        relu2.backward(&z);
        o2.step(relu2.params_and_grads());
        relu2.apply_constraint();
    }
}
