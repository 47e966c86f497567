//! PAPER §5.2: the deep linear max player reaches ½ λ_max(C_α[x]) with rank-1 layers, along the
//! top eigenvector of C_α[x] (not the top principal axis of the noisy views).

use alphacl::theory::deep_linear::{DeepLinear, DeepLinearConfig};

#[test]
fn deep_linear_reaches_the_global_optimum_and_rank_one_for_most_seeds() {
    let seeds = 20;
    let mut good = 0;
    for seed in 0..seeds {
        let mut e = DeepLinear::new(DeepLinearConfig {
            seed,
            ..DeepLinearConfig::default()
        })
        .unwrap();
        let r0 = e.readout();
        assert!(
            r0.energy <= r0.half_lambda_max * (1.0 + 1e-12),
            "bound violated at init"
        );
        e.run_to_convergence(1e-3, 1e-2, 3000);
        let r = e.readout();
        // The energy never exceeds the global bound ½ λ_max (‖M‖₂ ≤ Π ‖W_l‖_F = 1).
        assert!(
            r.energy <= r.half_lambda_max * (1.0 + 1e-9),
            "seed {seed}: {r:?}"
        );
        let global = (r.half_lambda_max - r.energy).abs() / r.half_lambda_max < 1e-3;
        let rank_one = r.effective_rank < 1.01 && r.layer_effective_ranks.iter().all(|&k| k < 1.01);
        if global && rank_one && r.abs_cos_top_eig > 0.999 {
            good += 1;
        }
    }
    assert!(
        good * 100 >= 95 * seeds as usize,
        "{good}/{seeds} seeds reached the rank-1 global optimum"
    );
}

#[test]
fn learned_direction_is_not_plain_pca_under_strong_augmentation() {
    // Strong augmentation on dim 1 makes it the top axis of the noisy views (6.25 + 7.84 > 9),
    // but the augmentation cancels in C_α[x] (β_i = Σ_j α_ij), whose top axis stays dim 0.
    let mut e = DeepLinear::new(DeepLinearConfig {
        noise_axis: 1,
        ..DeepLinearConfig::default()
    })
    .unwrap();
    assert!(e.run_to_convergence(1e-6, 1e-3, 3000));
    let r = e.readout();
    // PCA of the noisy views leans to dim 1, C_α[x] to dim 0, and the learned map follows C_α.
    assert!(
        e.pca_top[1].abs() > e.pca_top[0].abs(),
        "PCA top = {:?}",
        e.pca_top
    );
    let top = &e.spectrum.top_eigenvector;
    assert!(top[0].abs() > 0.9 && top[1].abs() < 0.3, "{top:?}");
    assert!(r.abs_cos_top_eig > 0.9999, "{r:?}");
    assert!(r.abs_cos_pca < 0.8, "{r:?}");
}

#[test]
fn deep_linear_is_deterministic_per_seed_and_rejects_bad_settings() {
    let cfg = DeepLinearConfig {
        seed: 3,
        ..DeepLinearConfig::default()
    };
    let mut a = DeepLinear::new(cfg.clone()).unwrap();
    let mut b = DeepLinear::new(cfg).unwrap();
    a.step(25);
    b.step(25);
    assert_eq!(a.weights, b.weights);
    assert!(
        DeepLinear::new(DeepLinearConfig {
            widths: vec![],
            ..DeepLinearConfig::default()
        })
        .is_err()
    );
    assert!(
        DeepLinear::new(DeepLinearConfig {
            lr: f64::NAN,
            ..DeepLinearConfig::default()
        })
        .is_err()
    );
    assert!(
        DeepLinear::new(DeepLinearConfig {
            pairs: 1,
            ..DeepLinearConfig::default()
        })
        .is_err()
    );
}
