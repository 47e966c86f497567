//! Theorem 1 for every loss: the ONE shared max-player gradient (α, β, z) → ∂L/∂y equals the
//! finite-difference gradient of the loss value, on random batches (B ∈ {2, 3, 6}, d ∈ {2, 5},
//! two seeds, normalisation on and off), in f64, with relative error < 1e-6.
//!
//! * (φ, ψ) rows: the finite difference is taken of the *full* loss value (α changes with y) —
//!   this is Theorem 1 itself.
//! * α-CL rows: the loss is defined with α computed from *detached* distances, so the finite
//!   difference is taken of L(y) = (1/2B) Σ_i Σ_j α⁰_ij (d²_i(y) − d²_ij(y)) with α⁰ = the
//!   library's α at the unperturbed batch, held fixed while y moves (stop-gradient convention).
//!
//! The values being differentiated are computed by the independent reference in
//! `loss_common` (own distances, plain formulas), and the library's value is checked against
//! it too.

mod loss_common;

use alphacl::loss::{LossSpec, evaluate};
use loss_common::*;

const TOL: f64 = 1e-6;

fn check(spec: &LossSpec, pairs: usize, dim: usize, seed: u64, normalize: bool) {
    // Unnormalised rows are scaled so that distances stay O(1) whatever d is.
    let scale = if normalize {
        1.0
    } else {
        1.0 / (dim as f64).sqrt()
    };
    let y = batch(pairs, dim, seed, scale);
    let out = evaluate::<f64>(spec, y.view(), normalize)
        .unwrap_or_else(|e| panic!("{}: {e}", spec.to_text()));
    let label = format!(
        "{} B={pairs} d={dim} seed={seed} norm={normalize}",
        spec.to_text()
    );
    let (value, fd) = if is_min_player(spec) {
        let alpha0 = out.alpha.clone();
        let f = |yy: &ndarray::Array2<f64>| ref_fixed_alpha_value(&alpha0, yy, normalize);
        (f(&y), fd_grad(&y, 1e-4, true, f))
    } else {
        let f = |yy: &ndarray::Array2<f64>| ref_family_value(spec, yy, normalize);
        let fd = if is_piecewise(spec) {
            // Piecewise-smooth rows: a tiny central step so no hinge is crossed.
            fd_grad(&y, 1e-7, false, f)
        } else {
            fd_grad(&y, 1e-4, true, f)
        };
        (f(&y), fd)
    };
    assert!(
        (out.loss - value).abs() <= 1e-12 * (1.0 + value.abs()),
        "{label}: library value {} vs reference {value}",
        out.loss
    );
    let err = rel_err(&out.grad, &fd);
    assert!(err < TOL, "{label}: relative gradient error {err:e}");
    // β is the row sum of α, and α vanishes on self and partner.
    let n = 2 * pairs;
    for i in 0..n {
        let s: f64 = out.alpha.row(i).sum();
        assert!((s - out.beta[i]).abs() < 1e-12, "{label}: β");
        assert_eq!(out.alpha[[i, i]], 0.0, "{label}: self");
        assert_eq!(out.alpha[[i, (i + pairs) % n]], 0.0, "{label}: partner");
        assert!(out.alpha.row(i).iter().all(|&a| a >= 0.0), "{label}: α ≥ 0");
    }
}

fn sweep(filter: impl Fn(&LossSpec) -> bool) {
    let specs: Vec<LossSpec> = all_specs().into_iter().filter(|s| filter(s)).collect();
    assert!(!specs.is_empty());
    for spec in &specs {
        for pairs in [2, 3, 6] {
            for dim in [2, 5] {
                for seed in [1, 2] {
                    for normalize in [true, false] {
                        check(spec, pairs, dim, seed, normalize);
                    }
                }
            }
        }
    }
}

#[test]
fn theorem1_shared_gradient_matches_finite_differences_for_every_family_row() {
    sweep(|s| !is_min_player(s));
}

#[test]
fn detached_alpha_gradient_matches_finite_differences_for_every_min_player() {
    sweep(is_min_player);
}

#[test]
fn every_catalogue_entry_is_covered_by_the_sweeps() {
    let specs = all_specs();
    for info in alphacl::loss::LOSSES {
        assert!(specs.iter().any(|s| s.kind == info.kind), "{}", info.name);
    }
}

#[test]
fn harness_rejects_wrong_gradients() {
    // The tolerance must be able to fail: a sign flip, or dropping the β (positive-pair) term
    // of the max-player gradient, is detected.
    let spec = LossSpec::parse("infonce:tau=0.5,eps=1").unwrap();
    let y = batch(3, 4, 7, 1.0);
    let out = evaluate::<f64>(&spec, y.view(), true).unwrap();
    let fd = fd_grad(&y, 1e-4, true, |yy| ref_family_value(&spec, yy, true));
    assert!(rel_err(&out.grad, &fd) < TOL);
    assert!(rel_err(&out.grad.mapv(|g| -g), &fd) > 1.0);
    let geom = alphacl::loss::Geometry::new(y.view(), true).unwrap();
    let no_beta = ndarray::Array1::<f64>::zeros(6);
    let mut g = alphacl::loss::energy_grad(out.alpha.view(), no_beta.view(), geom.z.view());
    g.mapv_inplace(|v| -v / 6.0);
    let g = geom.backward_to_raw(&g);
    assert!(rel_err(&g, &fd) > 1e-3);
}
