//! Downstream probes: weighted kNN and the linear probe on separable, random and hand-built
//! features.

use alphacl::analysis::probe::{self, KNN_K, KNN_T, ProbeConfig};
use alphacl::rng::Rng;
use ndarray::Array2;

/// K well-separated clusters (centre = 5·e_c) with unit noise, labels i mod K.
fn separable(n: usize, k: usize, d: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut r = Rng::seed_from_u64(seed);
    let y: Vec<usize> = (0..n).map(|i| i % k).collect();
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        (if j == y[i] { 5.0 } else { 0.0 }) + (0.5 * r.normal()) as f32
    });
    (x, y)
}

fn random(n: usize, k: usize, d: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut r = Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, d), |_| r.normal() as f32);
    let y = (0..n).map(|_| r.below(k)).collect();
    (x, y)
}

#[test]
fn knn_is_perfect_on_separable_features_and_chance_on_random_labels() {
    let (xtr, ytr) = separable(400, 5, 8, 1);
    let (xte, yte) = separable(200, 5, 8, 2);
    let acc = probe::knn_accuracy(&xtr, &ytr, &xte, &yte, 5, KNN_K, KNN_T);
    assert!(acc > 0.99, "{acc}");
    let (xtr, ytr) = random(1000, 4, 16, 3);
    let (xte, yte) = random(1000, 4, 16, 4);
    let acc = probe::knn_accuracy(&xtr, &ytr, &xte, &yte, 4, KNN_K, KNN_T);
    assert!((acc - 0.25).abs() < 0.05, "{acc}");
}

#[test]
fn knn_votes_are_weighted_by_exp_similarity_over_temperature() {
    // Query (1, 0). One neighbour of class 0 at similarity 1, two of class 1 at similarity ½.
    // With T = 0.07: e^{1/0.07} ≈ 1.6e6 > 2·e^{0.5/0.07} ≈ 2.5e3 → class 0.
    // With T = 100 the weights are almost equal → the two class-1 votes win.
    let s = 3f32.sqrt() / 2.0;
    let train = Array2::from_shape_vec((3, 2), vec![2.0, 0.0, 0.5, s, 0.5, -s]).unwrap();
    let y = [0, 1, 1];
    let test = Array2::from_shape_vec((1, 2), vec![3.0, 0.0]).unwrap();
    assert_eq!(
        probe::knn_accuracy(&train, &y, &test, &[0], 2, 3, 0.07),
        1.0
    );
    assert_eq!(
        probe::knn_accuracy(&train, &y, &test, &[1], 2, 3, 100.0),
        1.0
    );
    // k = 1: only the nearest neighbour counts, whatever T.
    assert_eq!(
        probe::knn_accuracy(&train, &y, &test, &[0], 2, 1, 100.0),
        1.0
    );
}

#[test]
fn knn_tolerates_degenerate_input() {
    let (x, y) = separable(10, 2, 3, 1);
    let empty = Array2::<f32>::zeros((0, 3));
    assert_eq!(probe::knn_accuracy(&empty, &[], &x, &y, 2, 20, 0.07), 0.0);
    assert_eq!(probe::knn_accuracy(&x, &y, &empty, &[], 2, 20, 0.07), 0.0);
    // k = 0 and k larger than the set are clamped; labels ≥ num_classes do not panic.
    let a = probe::knn_accuracy(&x, &y, &x, &y, 2, 0, 0.07);
    assert_eq!(a, 1.0);
    let bad: Vec<usize> = y.iter().map(|&v| v + 5).collect();
    assert_eq!(probe::knn_accuracy(&x, &bad, &x, &bad, 2, 50, 0.07), 1.0);
}

#[test]
fn linear_probe_separates_separable_features_and_not_random_labels() {
    let (xtr, ytr) = separable(600, 6, 10, 5);
    let (xte, yte) = separable(300, 6, 10, 6);
    let r = probe::linear_probe(&xtr, &ytr, &xte, &yte, 6, &ProbeConfig::default()).unwrap();
    assert!(r.test_acc > 0.99 && r.train_acc > 0.99, "{r:?}");
    assert!(r.train_loss < 0.1, "{r:?}");
    let (xtr, ytr) = random(600, 3, 10, 7);
    let (xte, yte) = random(600, 3, 10, 8);
    let r = probe::linear_probe(&xtr, &ytr, &xte, &yte, 3, &ProbeConfig::default()).unwrap();
    assert!((r.test_acc - 1.0 / 3.0).abs() < 0.07, "{r:?}");
}

#[test]
fn linear_probe_is_deterministic_and_invariant_to_feature_scale() {
    let (xtr, ytr) = separable(300, 3, 5, 9);
    let (mut xte, yte) = random(100, 3, 5, 10);
    xte.mapv_inplace(|v| 3.0 * v);
    let cfg = ProbeConfig::default();
    let a = probe::linear_probe(&xtr, &ytr, &xte, &yte, 3, &cfg).unwrap();
    let b = probe::linear_probe(&xtr, &ytr, &xte, &yte, 3, &cfg).unwrap();
    assert_eq!(a, b);
    // Standardisation makes an affine change of the features irrelevant.
    let f = |m: &Array2<f32>| m.mapv(|v| 1000.0 * v + 7.0);
    let c = probe::linear_probe(&f(&xtr), &ytr, &f(&xte), &yte, 3, &cfg).unwrap();
    assert!((a.test_acc - c.test_acc).abs() <= 0.02, "{a:?} vs {c:?}");
    assert!((a.train_acc - c.train_acc).abs() <= 0.01, "{a:?} vs {c:?}");
}

#[test]
fn linear_probe_rejects_unusable_input() {
    let (x, y) = separable(20, 2, 3, 1);
    let cfg = ProbeConfig::default();
    assert!(
        probe::linear_probe(&x, &y, &x, &y, 1, &cfg).is_none(),
        "label ≥ classes"
    );
    assert!(probe::linear_probe(&x, &y[..5], &x, &y, 2, &cfg).is_none());
    let mut nan = x.clone();
    nan[[0, 0]] = f32::NAN;
    assert!(probe::linear_probe(&nan, &y, &x, &y, 2, &cfg).is_none());
    let empty = Array2::<f32>::zeros((0, 3));
    assert!(probe::linear_probe(&empty, &[], &x, &y, 2, &cfg).is_none());
}
