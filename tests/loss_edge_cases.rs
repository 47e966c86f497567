//! Edge cases (duplicates, antipodal pairs, B = 2, extreme τ) and property tests (permutation
//! equivariance, α ≥ 0, α = 0 on self and partner) for every loss of the catalogue.

mod loss_common;

use alphacl::loss::{LOSSES, LossError, LossOutput, LossSpec, evaluate};
use loss_common::*;
use ndarray::Array2;
use proptest::prelude::*;

fn assert_sane<F: alphacl::Real>(out: &LossOutput<F>, label: &str) {
    let n = out.alpha.nrows();
    assert!(out.loss.is_finite(), "{label}: loss");
    assert!(out.grad.iter().all(|g| g.is_finite()), "{label}: grad");
    for i in 0..n {
        assert!(out.beta[i].is_finite(), "{label}: β");
        assert_eq!(out.alpha[[i, i]], F::zero(), "{label}: self");
        assert_eq!(
            out.alpha[[i, (i + n / 2) % n]],
            F::zero(),
            "{label}: partner"
        );
        for j in 0..n {
            let a = out.alpha[[i, j]];
            assert!(a.is_finite() && a >= F::zero(), "{label}: α[{i},{j}] = {a}");
        }
    }
}

/// Every spec, plus every spec with a temperature at τ = 1e-3 and τ = 1e3.
fn extreme_specs() -> Vec<LossSpec> {
    let mut v = all_specs();
    for info in LOSSES {
        if info.params.iter().any(|p| p.key == "tau") {
            for tau in [1e-3, 1e3] {
                let mut s = LossSpec::defaults(info.kind);
                s.set("tau", tau).unwrap();
                v.push(s);
            }
        }
    }
    v
}

fn edge_batches() -> Vec<(&'static str, Array2<f64>, bool)> {
    let base = batch(4, 5, 21, 1.0);
    // All rows identical: every d² is 0.
    let same = Array2::from_shape_fn((8, 5), |(_, c)| base[[0, c]]);
    // Each pair identical (d²_i = 0), and rows 1 and 2 duplicated as well (a zero negative).
    let mut pairs_dup = base.clone();
    for k in 0..4 {
        let r = base.row(k).to_owned();
        pairs_dup.row_mut(k + 4).assign(&r);
    }
    let r1 = pairs_dup.row(1).to_owned();
    pairs_dup.row_mut(2).assign(&r1);
    // Antipodal partners: d²_i = 2 for every anchor (the worst positive pair).
    let mut antipodal = base.clone();
    for k in 0..4 {
        let r = base.row(k).mapv(|x| -x);
        antipodal.row_mut(k + 4).assign(&r);
    }
    // B = 2, the smallest batch: each anchor has exactly 2 negatives.
    let tiny = batch(2, 3, 22, 1.0);
    // Large unnormalised rows: distances in the hundreds.
    let big = batch(3, 4, 23, 10.0);
    vec![
        ("identical", same.clone(), true),
        ("identical-raw", same, false),
        ("pair-duplicates", pairs_dup.clone(), true),
        ("pair-duplicates-raw", pairs_dup, false),
        ("antipodal", antipodal, true),
        ("B=2", tiny.clone(), true),
        ("B=2-raw", tiny, false),
        ("big-raw", big, false),
    ]
}

#[test]
fn edge_batches_and_extreme_temperatures_stay_finite() {
    for (name, y, normalize) in edge_batches() {
        let y32 = y.mapv(|v| v as f32);
        for sp in extreme_specs() {
            let label = format!("{name} {}", sp.to_text());
            let out = evaluate::<f64>(&sp, y.view(), normalize)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_sane(&out, &label);
            let out32 = evaluate::<f32>(&sp, y32.view(), normalize)
                .unwrap_or_else(|e| panic!("{label} (f32): {e}"));
            assert_sane(&out32, &format!("{label} f32"));
            if is_min_player(&sp) && sp.get("eps") == Some(0.0) {
                for i in 0..y.nrows() {
                    assert!(
                        (out.beta[i] - 1.0).abs() < 1e-9,
                        "{label}: row {i} sums to {}",
                        out.beta[i]
                    );
                }
            }
        }
    }
}

#[test]
fn identical_rows_give_uniform_min_player_alpha() {
    // With all distances equal every rule must spread α uniformly over the 2B−2 negatives.
    let y = Array2::from_shape_fn((8, 3), |(_, c)| c as f64 + 1.0);
    for t in [
        "acl-entropy:tau=0.001",
        "acl-quadratic:tau=0.001",
        "acl-direct:tau=1000,p=4",
        "acl-inverse",
    ] {
        let out = evaluate::<f64>(&LossSpec::parse(t).unwrap(), y.view(), true).unwrap();
        for i in 0..8 {
            for j in 0..8 {
                if j != i && j != (i + 4) % 8 {
                    assert!((out.alpha[[i, j]] - 1.0 / 6.0).abs() < 1e-12, "{t}");
                }
            }
        }
    }
}

#[test]
fn small_tau_concentrates_alpha_on_the_nearest_negative() {
    let y = batch(6, 4, 24, 1.0);
    let d2 = ref_d2(&y, true);
    for t in [
        "acl-entropy:tau=0.001",
        "acl-direct:tau=0.00001,p=2",
        "acl-quadratic:tau=0.0001",
    ] {
        let out = evaluate::<f64>(&LossSpec::parse(t).unwrap(), y.view(), true).unwrap();
        for i in 0..12 {
            let p = (i + 6) % 12;
            let nearest = (0..12)
                .filter(|&j| j != i && j != p)
                .min_by(|&a, &b| d2[[i, a]].total_cmp(&d2[[i, b]]))
                .unwrap();
            assert!(out.alpha[[i, nearest]] > 0.5, "{t}: row {i}");
        }
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let sp = LossSpec::parse("nt-xent").unwrap();
    let odd = batch(2, 3, 1, 1.0).slice(ndarray::s![..3, ..]).to_owned();
    assert!(matches!(
        evaluate::<f64>(&sp, odd.view(), true),
        Err(LossError::Input(_))
    ));
    let two = batch(1, 3, 1, 1.0);
    assert!(matches!(
        evaluate::<f64>(&sp, two.view(), true),
        Err(LossError::Input(_))
    ));
    let mut y = batch(2, 3, 1, 1.0);
    y[[0, 0]] = f64::INFINITY;
    assert!(evaluate::<f64>(&sp, y.view(), true).is_err());
    // Distances that overflow f32.
    let huge = batch(2, 3, 1, 1e30).mapv(|v| v as f32);
    assert!(matches!(
        evaluate::<f32>(&sp, huge.view(), false),
        Err(LossError::NonFinite(_))
    ));
    // A hand-built spec with an out-of-range value is rejected, not evaluated.
    let mut bad = LossSpec::parse("acl-direct").unwrap();
    bad.values[0] = 0.0;
    let e = evaluate::<f64>(&bad, batch(2, 3, 1, 1.0).view(), true).unwrap_err();
    assert!(
        e.to_string().contains("tau") && e.to_string().contains("> 0"),
        "{e}"
    );
}

/// Maps an old row index to its new one when pair k moves to slot perm[k] (and, with `swap`,
/// the two views of every pair trade places).
fn relabel(r: usize, perm: &[usize], swap: bool) -> usize {
    let b = perm.len();
    let view = r / b;
    let view = if swap { 1 - view } else { view };
    perm[r % b] + b * view
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn loss_is_equivariant_under_pair_permutations(
        pairs in 2usize..6,
        dim in 1usize..5,
        seed in 0u64..1000,
        spec_idx in 0usize..64,
        keys in proptest::collection::vec(0u64..1_000_000, 6),
        swap in any::<bool>(),
        normalize in any::<bool>(),
    ) {
        let specs = all_specs();
        let sp = &specs[spec_idx % specs.len()];
        // dim = 1 with normalisation makes every row ±1: allowed, but keep some spread.
        let y = batch(pairs, dim, seed, 1.0);
        let mut order: Vec<usize> = (0..pairs).collect();
        order.sort_by_key(|&k| (keys[k], k));
        let mut perm = vec![0; pairs];
        for (slot, &k) in order.iter().enumerate() {
            perm[k] = slot;
        }
        let n = 2 * pairs;
        let mut y2 = Array2::zeros(y.raw_dim());
        for r in 0..n {
            y2.row_mut(relabel(r, &perm, swap)).assign(&y.row(r));
        }
        let a = evaluate::<f64>(sp, y.view(), normalize).unwrap();
        let b = evaluate::<f64>(sp, y2.view(), normalize).unwrap();
        let label = sp.to_text();
        prop_assert!((a.loss - b.loss).abs() <= 1e-10 * (1.0 + a.loss.abs()), "{}: {} vs {}", label, a.loss, b.loss);
        for i in 0..n {
            let ni = relabel(i, &perm, swap);
            prop_assert!((a.beta[i] - b.beta[ni]).abs() < 1e-10);
            for j in 0..n {
                let nj = relabel(j, &perm, swap);
                prop_assert!((a.alpha[[i, j]] - b.alpha[[ni, nj]]).abs() < 1e-10, "{}: α", label);
                prop_assert!(a.alpha[[i, j]] >= 0.0);
            }
            prop_assert_eq!(a.alpha[[i, i]], 0.0);
            prop_assert_eq!(a.alpha[[i, (i + pairs) % n]], 0.0);
            for c in 0..dim {
                prop_assert!((a.grad[[i, c]] - b.grad[[ni, c]]).abs() < 1e-10 * (1.0 + a.grad[[i, c]].abs()), "{}: grad", label);
            }
        }
    }
}
