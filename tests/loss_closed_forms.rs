//! Closed forms and identities of the loss engine (PAPER.md §2–§4), each computed here
//! independently of `src/loss`.

mod loss_common;

use alphacl::loss::{LossSpec, evaluate};
use loss_common::*;
use ndarray::Array2;

fn spec(t: &str) -> LossSpec {
    LossSpec::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"))
}

fn partner(i: usize, n: usize) -> usize {
    (i + n / 2) % n
}

/// α-CL rows are α_ij = w_ij / (Σ_k w_ik + ε(2B−2)) with the raw weights written here from the
/// formulas; so each row sums to Σw/(Σw + ε(2B−2)).
#[test]
fn acl_alpha_is_the_dual2_normalised_weight() {
    type W = fn(f64, &LossSpec) -> f64;
    let rules: [(&str, W); 6] = [
        ("acl-entropy:tau=0.5,eps=0", |d2, s| {
            (-d2 / s.get("tau").unwrap()).exp()
        }),
        ("acl-entropy:tau=0.2,eps=0.1", |d2, s| {
            (-d2 / s.get("tau").unwrap()).exp()
        }),
        ("acl-direct:tau=0.5,p=4,eps=0", |d2, s| {
            (-d2.powf(s.get("p").unwrap() / 2.0) / s.get("tau").unwrap()).exp()
        }),
        ("acl-direct:tau=0.3,p=3,eps=0.05", |d2, s| {
            (-d2.powf(s.get("p").unwrap() / 2.0) / s.get("tau").unwrap()).exp()
        }),
        ("acl-inverse:tau=0.5,p=2,k=1,eps=0", |d2, s| {
            (d2.powf(s.get("p").unwrap() / 2.0) + s.get("tau").unwrap()).powf(-s.get("k").unwrap())
        }),
        ("acl-inverse:tau=0.1,p=3,k=2,eps=0.2", |d2, s| {
            (d2.powf(s.get("p").unwrap() / 2.0) + s.get("tau").unwrap()).powf(-s.get("k").unwrap())
        }),
    ];
    for (text, w) in rules {
        let sp = spec(text);
        let eps = sp.get("eps").unwrap();
        for (pairs, seed) in [(2, 1), (5, 2), (9, 3)] {
            let y = batch(pairs, 4, seed, 1.0);
            let n = 2 * pairs;
            let d2 = ref_d2(&y, true);
            let out = evaluate::<f64>(&sp, y.view(), true).unwrap();
            for i in 0..n {
                let p = partner(i, n);
                let negs: Vec<usize> = (0..n).filter(|&j| j != i && j != p).collect();
                let sw: f64 = negs.iter().map(|&j| w(d2[[i, j]], &sp)).sum();
                let den = sw + eps * (n - 2) as f64;
                for &j in &negs {
                    let want = w(d2[[i, j]], &sp) / den;
                    assert!((out.alpha[[i, j]] - want).abs() < 1e-12, "{text} ({i},{j})");
                }
                let want_sum = sw / den;
                assert!((out.beta[i] - want_sum).abs() < 1e-12, "{text} row {i}");
                if eps == 0.0 {
                    assert!((out.beta[i] - 1.0).abs() < 1e-12);
                } else {
                    assert!(out.beta[i] < 1.0);
                }
            }
        }
    }
}

/// KKT conditions of min_α Σ_j α_j d²_j + (τ/2)Σ_j α_j² over the simplex: α ≥ 0, Σα = 1, and a
/// multiplier μ_i with d²_ij + τα_ij = μ_i on the support and d²_ij ≥ μ_i off it.
#[test]
fn quadratic_alpha_satisfies_the_simplex_projection_kkt_conditions() {
    for tau in [1e-3, 0.02, 0.1, 0.5, 2.0, 50.0] {
        for (pairs, seed) in [(2, 4), (4, 5), (12, 6)] {
            let y = batch(pairs, 3, seed, 1.0);
            let n = 2 * pairs;
            let d2 = ref_d2(&y, true);
            let out = evaluate::<f64>(
                &spec(&format!("acl-quadratic:tau={tau},eps=0")),
                y.view(),
                true,
            )
            .unwrap();
            for i in 0..n {
                let p = partner(i, n);
                let negs: Vec<usize> = (0..n).filter(|&j| j != i && j != p).collect();
                let sum: f64 = negs.iter().map(|&j| out.alpha[[i, j]]).sum();
                assert!((sum - 1.0).abs() < 1e-10, "τ={tau} row {i} sums to {sum}");
                let support: Vec<usize> = negs
                    .iter()
                    .copied()
                    .filter(|&j| out.alpha[[i, j]] > 0.0)
                    .collect();
                assert!(!support.is_empty());
                let mu = d2[[i, support[0]]] + tau * out.alpha[[i, support[0]]];
                for &j in &negs {
                    let a = out.alpha[[i, j]];
                    assert!(a >= 0.0);
                    if a > 0.0 {
                        let m = d2[[i, j]] + tau * a;
                        assert!(
                            (m - mu).abs() < 1e-10 * (1.0 + mu.abs()),
                            "τ={tau}: {m} vs μ={mu}"
                        );
                    } else {
                        assert!(d2[[i, j]] >= mu - 1e-12, "τ={tau}: zero weight inside μ");
                    }
                }
            }
        }
    }
}

/// With ε > 0 the quadratic row is the ε = 0 row divided by 1 + ε(2B−2) (Σw = 1 for the exact
/// projection), so support and relative weights do not change.
#[test]
fn quadratic_eps_scales_the_row_uniformly() {
    let y = batch(5, 4, 8, 1.0);
    let a0 = evaluate::<f64>(&spec("acl-quadratic:tau=0.1,eps=0"), y.view(), true).unwrap();
    let a1 = evaluate::<f64>(&spec("acl-quadratic:tau=0.1,eps=0.3"), y.view(), true).unwrap();
    let f = 1.0 + 0.3 * 8.0;
    for (x, z) in a0.alpha.iter().zip(a1.alpha.iter()) {
        assert!((x / f - z).abs() < 1e-14);
    }
}

#[test]
fn quadratic_alpha_gets_sparser_as_tau_falls() {
    let y = batch(16, 6, 9, 1.0);
    let mut last = usize::MAX;
    let mut counts = Vec::new();
    for tau in [100.0, 10.0, 1.0, 0.3, 0.1, 0.03, 0.01, 1e-3] {
        let out =
            evaluate::<f64>(&spec(&format!("acl-quadratic:tau={tau}")), y.view(), true).unwrap();
        let nnz = out.alpha.iter().filter(|&&a| a > 0.0).count();
        assert!(nnz <= last, "τ={tau}: {nnz} non-zeros after {last}");
        counts.push(nnz);
        last = nnz;
    }
    // Huge τ: (almost) uniform over all 2B−2 negatives; tiny τ: (almost) one per row.
    assert_eq!(counts[0], 32 * 30);
    assert!(counts[counts.len() - 1] <= 2 * 32, "{counts:?}");
}

/// The entropy min player's α is the Theorem-1 α of InfoNCE with ε = 0 (exactly), and with
/// ε > 0 it is the same up to a per-row scale.
#[test]
fn acl_entropy_equals_theorem1_alpha_of_decoupled_infonce() {
    for (pairs, seed, normalize) in [(2, 1, true), (6, 2, true), (6, 3, false)] {
        let y = batch(pairs, 5, seed, 0.5);
        let inf = evaluate::<f64>(&spec("infonce:tau=0.3,eps=0"), y.view(), normalize).unwrap();
        let ent = evaluate::<f64>(&spec("acl-entropy:tau=0.3,eps=0"), y.view(), normalize).unwrap();
        let slack =
            evaluate::<f64>(&spec("acl-entropy:tau=0.3,eps=0.2"), y.view(), normalize).unwrap();
        let direct2 =
            evaluate::<f64>(&spec("acl-direct:tau=0.3,p=2,eps=0"), y.view(), normalize).unwrap();
        assert!(rel_err(&inf.alpha, &ent.alpha) < 1e-12);
        assert!(
            rel_err(&direct2.alpha, &ent.alpha) < 1e-12,
            "p = 2 recovers InfoNCE's α"
        );
        // Same α ⇒ the same max-player gradient (PAPER.md §7.2).
        assert!(rel_err(&inf.grad, &ent.grad) < 1e-12);
        let n = 2 * pairs;
        for i in 0..n {
            let ratio = slack.beta[i] / inf.beta[i];
            assert!(ratio < 1.0);
            for j in 0..n {
                assert!((slack.alpha[[i, j]] - ratio * inf.alpha[[i, j]]).abs() < 1e-13);
            }
        }
    }
}

/// `infonce:eps=1` = τ·`nt-xent` in value, gradient and α.
#[test]
fn infonce_eps1_is_tau_times_nt_xent() {
    for tau in [0.05, 0.5, 2.0] {
        for normalize in [true, false] {
            let y = batch(4, 6, 10, 0.5);
            let a = evaluate::<f64>(
                &spec(&format!("infonce:tau={tau},eps=1")),
                y.view(),
                normalize,
            )
            .unwrap();
            let b =
                evaluate::<f64>(&spec(&format!("nt-xent:tau={tau}")), y.view(), normalize).unwrap();
            assert!((a.loss - tau * b.loss).abs() < 1e-12 * a.loss.abs().max(1.0));
            assert!(rel_err(&a.grad, &b.grad.mapv(|g| tau * g)) < 1e-12);
            assert!(rel_err(&a.alpha, &b.alpha.mapv(|g| tau * g)) < 1e-12);
        }
    }
}

/// SimCLR's NT-Xent written as a plain cross-entropy over cosine similarities s_ij/τ, with the
/// partner as target and every j ≠ i in the denominator, averaged over the 2B anchors.
fn nt_xent_by_cross_entropy(y: &Array2<f64>, tau: f64) -> f64 {
    let n = y.nrows();
    let norms: Vec<f64> = y.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect();
    let cos = |i: usize, j: usize| y.row(i).dot(&y.row(j)) / (norms[i] * norms[j]);
    let mut total = 0.0;
    for i in 0..n {
        let target = partner(i, n);
        let logits: Vec<(usize, f64)> = (0..n)
            .filter(|&j| j != i)
            .map(|j| (j, cos(i, j) / tau))
            .collect();
        let log_z = logits.iter().map(|(_, l)| l.exp()).sum::<f64>().ln();
        let l_target = logits
            .iter()
            .find(|(j, _)| *j == target)
            .map(|x| x.1)
            .unwrap();
        total += log_z - l_target;
    }
    total / n as f64
}

#[test]
fn nt_xent_equals_direct_cross_entropy_over_cosines() {
    for (pairs, dim, seed, tau) in [(2, 3, 1, 0.5), (5, 8, 2, 0.1), (8, 16, 3, 1.0)] {
        let y = batch(pairs, dim, seed, 3.0);
        let out = evaluate::<f64>(&spec(&format!("nt-xent:tau={tau}")), y.view(), true).unwrap();
        let want = nt_xent_by_cross_entropy(&y, tau);
        assert!(
            (out.loss - want).abs() < 1e-12 * want.max(1.0),
            "{} vs {want}",
            out.loss
        );
        // And its gradient (w.r.t. the raw rows) is the gradient of that cross-entropy.
        let fd = fd_grad(&y, 1e-4, true, |yy| nt_xent_by_cross_entropy(yy, tau));
        assert!(rel_err(&out.grad, &fd) < 1e-6);
    }
}

/// The MINE row is log Σ_j exp(d²_i − d²_ij) per anchor; the triplet-contrastive row is
/// Σ_j (d²_i − d²_ij), i.e. its α is 1 on every negative.
#[test]
fn simple_rows_have_their_textbook_alpha() {
    let y = batch(3, 4, 11, 1.0);
    let n = 6;
    let d2 = ref_d2(&y, true);
    let tc = evaluate::<f64>(&spec("triplet-contrastive"), y.view(), true).unwrap();
    let mine = evaluate::<f64>(&spec("mine"), y.view(), true).unwrap();
    for i in 0..n {
        let p = partner(i, n);
        let z: f64 = (0..n)
            .filter(|&j| j != i && j != p)
            .map(|j| (d2[[i, p]] - d2[[i, j]]).exp())
            .sum();
        for j in (0..n).filter(|&j| j != i && j != p) {
            assert_eq!(tc.alpha[[i, j]], 1.0);
            let want = (d2[[i, p]] - d2[[i, j]]).exp() / z;
            assert!((mine.alpha[[i, j]] - want).abs() < 1e-13);
        }
        assert!((mine.beta[i] - 1.0).abs() < 1e-13);
    }
}

/// The f32 training path runs the same code as the f64 reference; on a modest batch they agree
/// to single precision.
#[test]
fn f32_path_agrees_with_f64_reference() {
    let y = batch(32, 16, 12, 1.0);
    let y32 = y.mapv(|v| v as f32);
    for sp in all_specs() {
        let a = evaluate::<f64>(&sp, y.view(), true).unwrap();
        let b = evaluate::<f32>(&sp, y32.view(), true).unwrap();
        let tol = 2e-3;
        assert!(
            (a.loss - b.loss as f64).abs() <= tol * (1.0 + a.loss.abs()),
            "{}: {} vs {}",
            sp.to_text(),
            a.loss,
            b.loss
        );
        let g32 = b.grad.mapv(f64::from);
        assert!(rel_err(&a.grad, &g32) < tol, "{}: grad", sp.to_text());
    }
}
