//! Downstream evaluation of frozen representations on held-out data.
//!
//! Protocol: the encoder is frozen; training-split embeddings are the "memory" / the probe's
//! training set, held-out-split embeddings are the queries; labels are used only here, never by
//! the contrastive loss. The trainer evaluates on fixed random subsets (a few hundred samples)
//! every `eval_every` steps, so an evaluation costs a few milliseconds and never stalls the UI.
//!
//! - [`knn_accuracy`]: weighted kNN as in solo-learn. Rows are L2-normalised; for a query q the
//!   cosine similarities s_i = ⟨q, x_i⟩ to all training rows are computed, the k largest vote
//!   for their class with weight exp(s_i / T); the class with the largest total wins. Defaults
//!   k = 20, T = 0.07 ([`KNN_K`], [`KNN_T`]).
//! - [`linear_probe`]: multinomial logistic (softmax) regression on standardised features
//!   (each coordinate shifted and scaled by the training mean and standard deviation), weights
//!   and biases initialised to zero, trained by full-batch Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8;
//!   Adam copes with the strongly correlated coordinates of raw pixels, where plain gradient
//!   descent needs a tiny step) on the mean cross-entropy + (λ/2)‖W‖² for a fixed number of
//!   epochs.
//!   It is deterministic (no randomness at all). Accuracy is reported on the held-out split.

use ndarray::{Array1, Array2, Axis};

/// Default number of neighbours of the kNN probe.
pub const KNN_K: usize = 20;
/// Default temperature of the kNN probe.
pub const KNN_T: f32 = 0.07;

/// Weighted kNN accuracy of `test` against `train` (rows are embeddings, any norm).
///
/// Returns 0 for an empty test or train set. Labels ≥ `num_classes` still vote (in a class of
/// their own), and only `min(rows, labels)` rows of each split are used, so malformed input
/// never panics.
pub fn knn_accuracy(
    train: &Array2<f32>,
    y_train: &[usize],
    test: &Array2<f32>,
    y_test: &[usize],
    num_classes: usize,
    k: usize,
    temperature: f32,
) -> f64 {
    let n_te = test.nrows().min(y_test.len());
    let Some(bank) = KnnBank::new(train.view(), y_train, num_classes, k, temperature) else {
        return 0.0;
    };
    if n_te == 0 || train.ncols() != test.ncols() {
        return 0.0;
    }
    // Queries in blocks keep the similarity matrix small for large sets.
    const BLOCK: usize = 256;
    let correct: usize = (0..n_te)
        .step_by(BLOCK)
        .map(|start| {
            let end = (start + BLOCK).min(n_te);
            bank.correct(test.slice(ndarray::s![start..end, ..]), &y_test[start..end])
        })
        .sum();
    correct as f64 / n_te as f64
}

/// The memory bank of a weighted kNN evaluation: the L2-normalised training rows and their
/// labels. Queries can be scored a block at a time ([`KnnBank::correct`]), so a large
/// evaluation can be spread over short slices of work.
pub struct KnnBank {
    rows: Array2<f32>,
    labels: Vec<usize>,
    n_votes: usize,
    k: usize,
    temperature: f32,
}

/// Rows of `m` scaled to unit L2 norm (zero rows stay zero).
fn unit_rows(m: ndarray::ArrayView2<f32>) -> Array2<f32> {
    let mut m = m.to_owned();
    for mut r in m.axis_iter_mut(Axis(0)) {
        let n = r.dot(&r).sqrt().max(1e-12);
        r.mapv_inplace(|v| v / n);
    }
    m
}

impl KnnBank {
    /// The bank of the first `min(rows, labels)` rows of `train` (`None` when that is none).
    pub fn new(
        train: ndarray::ArrayView2<f32>,
        y_train: &[usize],
        num_classes: usize,
        k: usize,
        temperature: f32,
    ) -> Option<Self> {
        let n_tr = train.nrows().min(y_train.len());
        if n_tr == 0 {
            return None;
        }
        let n_votes = y_train[..n_tr]
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(num_classes.saturating_sub(1))
            + 1;
        Some(Self {
            rows: unit_rows(train.slice(ndarray::s![..n_tr, ..])),
            labels: y_train[..n_tr].to_vec(),
            n_votes,
            k: k.clamp(1, n_tr),
            temperature: if temperature > 0.0 {
                temperature
            } else {
                KNN_T
            },
        })
    }

    /// Rows in the bank.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the bank is empty (never: [`KnnBank::new`] refuses an empty one).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Dimension of the rows.
    pub fn dim(&self) -> usize {
        self.rows.ncols()
    }

    /// How many of `queries` (rows of any norm; the first `min(rows, labels)` are used) the
    /// k nearest bank rows classify as their label: each of the k largest cosine similarities
    /// s_i votes for its class with weight exp(s_i / T).
    pub fn correct(&self, queries: ndarray::ArrayView2<f32>, y: &[usize]) -> usize {
        let n = queries.nrows().min(y.len());
        if n == 0 || queries.ncols() != self.rows.ncols() {
            return 0;
        }
        let q = unit_rows(queries.slice(ndarray::s![..n, ..]));
        // One GEMM through the crate's SIMD kernels (blocks of ≥ 32 queries keep it efficient).
        let mut sims = Array2::<f32>::zeros((n, self.len()));
        crate::nn::gemm::matmul_into(sims.view_mut(), q.view(), self.rows.t(), false);
        let mut idx: Vec<usize> = Vec::with_capacity(self.len());
        let mut votes = vec![0.0f64; self.n_votes];
        let mut hits = 0;
        for (row, &label) in sims.axis_iter(Axis(0)).zip(y) {
            idx.clear();
            idx.extend(0..self.len());
            idx.select_nth_unstable_by(self.k - 1, |&a, &b| row[b].total_cmp(&row[a]));
            votes.iter_mut().for_each(|v| *v = 0.0);
            for &i in &idx[..self.k] {
                votes[self.labels[i]] += f64::from(row[i] / self.temperature).exp();
            }
            let pred = votes
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or(0, |(c, _)| c);
            hits += usize::from(pred == label);
        }
        hits
    }
}

/// Settings of the linear probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    /// Full-batch gradient steps.
    pub epochs: usize,
    /// Learning rate.
    pub lr: f32,
    /// Adam's β₁.
    pub beta1: f32,
    /// L2 penalty λ on the weights (not the biases).
    pub weight_decay: f32,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            lr: 0.05,
            beta1: 0.9,
            weight_decay: 1e-4,
        }
    }
}

/// Result of a linear probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeResult {
    /// Accuracy on the training features.
    pub train_acc: f64,
    /// Accuracy on the held-out features.
    pub test_acc: f64,
    /// Final mean training cross-entropy.
    pub train_loss: f64,
}

/// Trains a softmax-regression probe on `train` and evaluates on `test` (see the module doc).
/// Returns `None` when the inputs are unusable (empty, mismatched shapes, label ≥
/// `num_classes`, non-finite features).
pub fn linear_probe(
    train: &Array2<f32>,
    y_train: &[usize],
    test: &Array2<f32>,
    y_test: &[usize],
    num_classes: usize,
    cfg: &ProbeConfig,
) -> Option<ProbeResult> {
    let mut fit = ProbeFit::new(train, y_train, test, y_test, num_classes, cfg)?;
    while !fit.done() {
        fit.epoch();
    }
    Some(fit.result())
}

/// A linear probe trained one epoch at a time ([`linear_probe`] runs every epoch at once), so
/// a long fit can be spread over many short slices of work.
pub struct ProbeFit {
    xtr: Array2<f32>,
    xte: Array2<f32>,
    y_train: Vec<usize>,
    y_test: Vec<usize>,
    cfg: ProbeConfig,
    w: Array2<f32>,
    b: Array1<f32>,
    mw: Array2<f32>,
    sw: Array2<f32>,
    mb: Array1<f32>,
    sb: Array1<f32>,
    epochs_done: usize,
}

impl ProbeFit {
    /// Standardises the features and sets the weights to zero (`None` for unusable inputs, as
    /// [`linear_probe`]).
    pub fn new(
        train: &Array2<f32>,
        y_train: &[usize],
        test: &Array2<f32>,
        y_test: &[usize],
        num_classes: usize,
        cfg: &ProbeConfig,
    ) -> Option<Self> {
        let (n, d) = train.dim();
        let k = num_classes;
        if n == 0
            || k == 0
            || y_train.len() != n
            || y_test.len() != test.nrows()
            || test.ncols() != d
            || y_train.iter().chain(y_test).any(|&y| y >= k)
            || !train.iter().chain(test.iter()).all(|v| v.is_finite())
        {
            return None;
        }
        // Standardise with training statistics.
        let mean = train.mean_axis(Axis(0))?;
        let std = train
            .map_axis(Axis(0), |c| {
                let m = c.mean().unwrap_or(0.0);
                (c.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / n as f32).sqrt()
            })
            .mapv(|s| if s > 1e-6 { s } else { 1.0 });
        let standardise = |x: &Array2<f32>| (x - &mean) / &std;
        Some(Self {
            xtr: standardise(train),
            xte: standardise(test),
            y_train: y_train.to_vec(),
            y_test: y_test.to_vec(),
            cfg: *cfg,
            w: Array2::zeros((d, k)),
            b: Array1::zeros(k),
            mw: Array2::zeros((d, k)),
            sw: Array2::zeros((d, k)),
            mb: Array1::zeros(k),
            sb: Array1::zeros(k),
            epochs_done: 0,
        })
    }

    /// Whether every epoch of the schedule has run.
    pub fn done(&self) -> bool {
        self.epochs_done >= self.cfg.epochs
    }

    /// Fraction of the schedule done.
    pub fn progress(&self) -> f64 {
        self.epochs_done as f64 / self.cfg.epochs.max(1) as f64
    }

    /// One full-batch Adam step on the mean cross-entropy + (λ/2)‖W‖².
    pub fn epoch(&mut self) {
        if self.done() {
            return;
        }
        self.epochs_done += 1;
        let t = self.epochs_done;
        let cfg = self.cfg;
        let n = self.xtr.nrows();
        let (p, _) = softmax_probs(&self.xtr, &self.w, &self.b, &self.y_train);
        // G = (P − Y)/n.
        let mut g = p;
        for (i, &y) in self.y_train.iter().enumerate() {
            g[[i, y]] -= 1.0;
        }
        g.mapv_inplace(|v| v / n as f32);
        let gw = self.xtr.t().dot(&g) + &(&self.w * cfg.weight_decay);
        let gb = g.sum_axis(Axis(0));
        let (beta1, beta2, eps) = (cfg.beta1, 0.999f32, 1e-8f32);
        let c1 = 1.0 - beta1.powi(t as i32);
        let c2 = 1.0 - beta2.powi(t as i32);
        let adam = |p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]| {
            for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * g * g;
                *p -= cfg.lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            }
        };
        let gw = gw.as_standard_layout();
        adam(
            self.w.as_slice_mut().unwrap_or(&mut []),
            self.mw.as_slice_mut().unwrap_or(&mut []),
            self.sw.as_slice_mut().unwrap_or(&mut []),
            gw.as_slice().unwrap_or(&[]),
        );
        adam(
            self.b.as_slice_mut().unwrap_or(&mut []),
            self.mb.as_slice_mut().unwrap_or(&mut []),
            self.sb.as_slice_mut().unwrap_or(&mut []),
            gb.as_slice().unwrap_or(&[]),
        );
    }

    /// Accuracies and final loss at the current weights.
    pub fn result(&self) -> ProbeResult {
        let acc = |x: &Array2<f32>, y: &[usize]| {
            if y.is_empty() {
                return 0.0;
            }
            let logits = x.dot(&self.w) + &self.b;
            let hits = logits
                .axis_iter(Axis(0))
                .zip(y)
                .filter(|(row, y)| {
                    row.iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                        .map(|(c, _)| c)
                        == Some(**y)
                })
                .count();
            hits as f64 / y.len() as f64
        };
        let (_, final_loss) = softmax_probs(&self.xtr, &self.w, &self.b, &self.y_train);
        ProbeResult {
            train_acc: acc(&self.xtr, &self.y_train),
            test_acc: acc(&self.xte, &self.y_test),
            train_loss: final_loss,
        }
    }
}

/// Softmax probabilities of x·W + b and the mean cross-entropy against `y`.
fn softmax_probs(
    x: &Array2<f32>,
    w: &Array2<f32>,
    b: &Array1<f32>,
    y: &[usize],
) -> (Array2<f32>, f64) {
    let mut p = x.dot(w) + b;
    let mut loss = 0.0f64;
    for (mut row, &yi) in p.axis_iter_mut(Axis(0)).zip(y) {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
        loss -= f64::from(row[yi].max(1e-30)).ln();
    }
    (p, loss / y.len().max(1) as f64)
}
