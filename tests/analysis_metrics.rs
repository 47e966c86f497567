//! Collapse/rank metrics, the eigen-decomposition, the contrastive covariance and the
//! Theorem 1 readout.

use alphacl::analysis::covariance::{ContrastiveSpectrum, contrastive_covariance, half_trace};
use alphacl::analysis::linalg::{singular_values, sym_eigen};
use alphacl::analysis::spectrum::{CollapseMetrics, effective_rank, rankme};
use alphacl::analysis::theorem1::theorem1_residual;
use alphacl::loss::{self, Geometry, LossSpec};
use alphacl::rng::Rng;
use ndarray::{Array1, Array2};
use proptest::prelude::*;

fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut r = Rng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| r.normal())
}

/// A (rows × cols) matrix U diag(s) Vᵀ with orthonormal U, V from random Gaussians.
fn with_spectrum(rows: usize, cols: usize, s: &[f64], seed: u64) -> Array2<f64> {
    let u = sym_eigen(
        gaussian(rows, rows, seed)
            .t()
            .dot(&gaussian(rows, rows, seed))
            .view(),
    )
    .unwrap()
    .vectors;
    let v = sym_eigen(
        gaussian(cols, cols, seed + 1)
            .t()
            .dot(&gaussian(cols, cols, seed + 1))
            .view(),
    )
    .unwrap()
    .vectors;
    let mut d = Array2::<f64>::zeros((rows, cols));
    for (k, &sk) in s.iter().enumerate() {
        d[[k, k]] = sk;
    }
    u.dot(&d).dot(&v.t())
}

#[test]
fn effective_rank_of_known_spectra() {
    // Rank one → 1.
    let a = with_spectrum(12, 6, &[3.0], 1);
    let sv = singular_values(a.view()).unwrap();
    assert!((effective_rank(&sv) - 1.0).abs() < 1e-6, "{sv:?}");
    // k equal singular values → k.
    for k in [2usize, 3, 5] {
        let s = vec![2.5; k];
        let a = with_spectrum(12, 6, &s, 10 + k as u64);
        let sv = singular_values(a.view()).unwrap();
        assert!(
            (effective_rank(&sv) - k as f64).abs() < 1e-6,
            "k={k}: {sv:?}"
        );
        assert!((rankme(&sv, 1e-7) - k as f64).abs() < 1e-4);
    }
    // Between: (2, 1) → exp(H(2/3, 1/3)).
    let h: f64 = -(2.0f64 / 3.0) * (2.0f64 / 3.0).ln() - (1.0f64 / 3.0) * (1.0f64 / 3.0).ln();
    assert!((effective_rank(&[2.0, 1.0, 0.0]) - h.exp()).abs() < 1e-12);
    assert_eq!(effective_rank(&[0.0, 0.0]), 0.0);
}

#[test]
fn collapse_metrics_detect_collapse_and_spread() {
    // Collapsed: every row the same direction up to scale → uniformity 0, std 0, erank ≈ 1.
    let b = 16;
    let mut z = Array2::<f32>::zeros((2 * b, 8));
    for i in 0..2 * b {
        z[[i, 0]] = 1.0 + i as f32 * 0.01;
        z[[i, 1]] = 2.0 + i as f32 * 0.02;
    }
    let m = CollapseMetrics::compute(&z).unwrap();
    assert!(m.uniformity.abs() < 1e-9 && m.alignment < 1e-9, "{m:?}");
    assert!(m.mean_dim_std < 1e-6);
    assert!(m.effective_rank < 1.0 + 1e-6 && m.effective_rank_uncentered < 1.0 + 1e-6);
    // Spread: isotropic Gaussian rows, views identical → alignment 0, erank near d.
    let g = gaussian(b, 8, 3);
    let mut z = Array2::<f32>::zeros((2 * b, 8));
    for i in 0..b {
        for k in 0..8 {
            z[[i, k]] = g[[i, k]] as f32;
            z[[i + b, k]] = g[[i, k]] as f32;
        }
    }
    let m = CollapseMetrics::compute(&z).unwrap();
    assert!(m.alignment < 1e-10);
    assert!(m.uniformity < -1.0, "{}", m.uniformity);
    assert!(m.effective_rank > 6.0, "{}", m.effective_rank);
    assert_eq!(m.log_spectrum.len(), 8);
    assert!(m.log_spectrum.windows(2).all(|w| w[0] >= w[1]));
    // Bad input is an error, not a panic.
    assert!(CollapseMetrics::compute(&Array2::<f32>::zeros((3, 4))).is_err());
    let mut bad = z.clone();
    bad[[0, 0]] = f32::NAN;
    assert!(CollapseMetrics::compute(&bad).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn eigen_decomposition_reconstructs(n in 1usize..12, seed in 0u64..1000) {
        let g = gaussian(n, n, seed);
        let a = &g + &g.t();
        let e = sym_eigen(a.view()).unwrap();
        let rec = e.vectors.dot(&Array2::from_diag(&Array1::from(e.values.clone()))).dot(&e.vectors.t());
        let err = (&rec - &a).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        prop_assert!(err < 1e-10);
        let orth = (&e.vectors.t().dot(&e.vectors) - &Array2::<f64>::eye(n)).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        prop_assert!(orth < 1e-12);
    }

    #[test]
    fn metrics_invariant_to_pair_permutation(b in 2usize..10, seed in 0u64..1000) {
        let z = gaussian(2 * b, 5, seed).mapv(|v| v as f32);
        let mut perm: Vec<usize> = (0..b).collect();
        Rng::seed_from_u64(seed + 7).shuffle(&mut perm);
        // Permute the samples, keeping rows k and k + B partners.
        let mut zp = z.clone();
        for (k, &src) in perm.iter().enumerate() {
            zp.row_mut(k).assign(&z.row(src));
            zp.row_mut(k + b).assign(&z.row(src + b));
        }
        let m1 = CollapseMetrics::compute(&z).unwrap();
        let m2 = CollapseMetrics::compute(&zp).unwrap();
        prop_assert!((m1.effective_rank - m2.effective_rank).abs() < 1e-9);
        prop_assert!((m1.rankme - m2.rankme).abs() < 1e-9);
        prop_assert!((m1.alignment - m2.alignment).abs() < 1e-9);
        prop_assert!((m1.uniformity - m2.uniformity).abs() < 1e-9);
        for (a, c) in m1.singular_values.iter().zip(&m2.singular_values) {
            prop_assert!((a - c).abs() < 1e-9 * (1.0 + a));
        }
        for (a, c) in m1.dim_std.iter().zip(&m2.dim_std) {
            prop_assert!((a - c).abs() < 1e-9);
        }
    }
}

#[test]
fn contrastive_covariance_is_symmetric_and_its_half_trace_is_the_energy() {
    for (text, normalize) in [
        ("infonce:tau=0.5,eps=1", true),
        ("acl-direct:tau=0.5,p=4,eps=0", true),
        ("triplet:eps=0.5", false),
        ("acl-quadratic:tau=1", false),
    ] {
        let spec = LossSpec::parse(text).unwrap();
        let y = gaussian(12, 5, 42);
        let geom = Geometry::new(y.view(), normalize).unwrap();
        let (_, alpha) = loss::alpha_and_loss(&spec, &geom);
        let c = contrastive_covariance(geom.z.view(), alpha.view()).unwrap();
        let asym = (&c - &c.t()).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(asym < 1e-12, "{text}: asymmetry {asym}");
        let e = loss::energy(&geom, alpha.view());
        let ht = half_trace(c.view());
        assert!(
            (e - ht).abs() < 1e-9 * (1.0 + e.abs()),
            "{text}: E={e} ½trC={ht}"
        );
        // Linear map: C_α[Wx] = W C_α[x] Wᵀ.
        let w = gaussian(3, 5, 5);
        let cz = contrastive_covariance(y.dot(&w.t()).view(), alpha.view()).unwrap();
        let cx = contrastive_covariance(y.view(), alpha.view()).unwrap();
        let diff = (&cz - &w.dot(&cx).dot(&w.t()))
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(diff < 1e-9, "{text}: {diff}");
        let s = ContrastiveSpectrum::of(c.view()).unwrap();
        assert!((s.eigenvalues.iter().sum::<f64>() / 2.0 - ht).abs() < 1e-9);
    }
    assert!(
        contrastive_covariance(
            gaussian(6, 2, 1).view(),
            Array2::<f64>::zeros((4, 4)).view()
        )
        .is_err()
    );
}

#[test]
fn theorem1_readout_is_tiny_for_family_and_min_player_losses() {
    let z = gaussian(16, 6, 9).mapv(|v| v as f32);
    for text in [
        "infonce:tau=0.5,eps=1",
        "nt-xent:tau=0.5",
        "tuplet",
        "modified-triplet:c=2",
        "acl-entropy:tau=0.5",
        "acl-direct:tau=0.5,p=4,eps=0",
    ] {
        let spec = LossSpec::parse(text).unwrap();
        let r = theorem1_residual(&spec, &z, true, 6, 1).unwrap();
        assert!(r.relative_residual < 1e-7, "{text}: {r:?}");
        // The f32 gradient the trainer uses is right up to f32 rounding, and no better.
        assert!(r.relative_residual_f32 < 1e-4, "{text}: {r:?}");
        assert!(
            r.relative_residual_f32 > 10.0 * r.relative_residual,
            "{text}: {r:?}"
        );
        assert!(r.grad_norm > 0.0);
    }
    assert!(theorem1_residual(&LossSpec::default(), &z, true, 0, 1).is_err());
}
