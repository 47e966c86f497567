//! Downstream evaluation of frozen representations.
//!
//! Weighted kNN (as in solo-learn): cosine similarity s between a query and every training
//! embedding, the k most similar vote for their class with weight exp(s/T); k = 20, T = 0.07.

use ndarray::{Array2, Axis};

/// Weighted kNN accuracy of `test` against `train` (rows are embeddings, any norm).
pub fn knn_accuracy(
    train: &Array2<f32>,
    y_train: &[usize],
    test: &Array2<f32>,
    y_test: &[usize],
    num_classes: usize,
    k: usize,
    temperature: f32,
) -> f64 {
    if test.nrows() == 0 || train.nrows() == 0 {
        return 0.0;
    }
    let normed = |m: &Array2<f32>| {
        let mut m = m.clone();
        for mut r in m.axis_iter_mut(Axis(0)) {
            let n = r.dot(&r).sqrt().max(1e-12);
            r.mapv_inplace(|v| v / n);
        }
        m
    };
    let tr = normed(train);
    let te = normed(test);
    let sims = te.dot(&tr.t());
    let k = k.min(tr.nrows());
    let mut correct = 0usize;
    let mut idx: Vec<usize> = Vec::with_capacity(tr.nrows());
    let mut votes = vec![0.0f32; num_classes];
    for (q, row) in sims.axis_iter(Axis(0)).enumerate() {
        idx.clear();
        idx.extend(0..tr.nrows());
        idx.select_nth_unstable_by(k - 1, |&a, &b| row[b].total_cmp(&row[a]));
        votes.iter_mut().for_each(|v| *v = 0.0);
        for &i in &idx[..k] {
            votes[y_train[i]] += (row[i] / temperature).exp();
        }
        let pred = votes
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(c, _)| c);
        if pred == y_test[q] {
            correct += 1;
        }
    }
    correct as f64 / test.nrows() as f64
}
