//! Whole-set evaluation, a slice at a time.
//!
//! The lab's regular evaluation ([`EvalProtocol::Subset`](super::EvalProtocol)) scores 512
//! held-out queries against 1 024 training rows, so it costs milliseconds and can run every
//! `eval_every` steps. The paper's protocol scores **every held-out sample against the whole
//! training split**: for CIFAR-10 at 16 px that is 12 000 forward passes and 2 000 × 10 000
//! similarities, seconds of work. [`WholeSetEval`] does that work in small units
//! ([`WholeSetEval::advance`] returns once its time budget is used) on a frozen copy of the
//! encoder taken at one step, so a run's engine can interleave it with training and keep
//! answering commands.
//!
//! One evaluation measures one of three features φ(x) of every sample:
//! - [`Features::Raw`]: the inputs x (the raw-pixel reference line);
//! - [`Features::Centred`]: x − x̄, with x̄ the mean of the training split (the centred
//!   reference line);
//! - [`Features::Encoder`]: the representation h = backbone(x), before any projection head,
//!   L2-normalised when the run normalises (what kNN and the probe evaluate in the paper).
//!
//! and reports the weighted-kNN accuracy (cosine similarity, k = 20, T = 0.07, see
//! [`crate::analysis::probe::knn_accuracy`]) of all held-out φ against all training φ; for the
//! encoder also the linear probe's held-out accuracy, trained on the first half of the training
//! split for 40 epochs as the trainer's own probe. The result equals the trainer's
//! [`EvalProtocol::Full`](super::EvalProtocol) evaluation of the same parameters.

use ndarray::{Array1, Array2, Axis, s};
use web_time::{Duration, Instant};

use crate::analysis::probe::{self, KnnBank, ProbeConfig, ProbeFit};
use crate::data::Dataset;
use crate::nn::Encoder;
use crate::train::trainer::normalize_rows_in_place;

/// Which features of the samples an evaluation scores.
#[derive(Debug, Clone)]
pub enum Features {
    /// The raw inputs.
    Raw,
    /// The inputs centred by the training mean.
    Centred,
    /// The representation h of a frozen encoder (`normalize`: rows scaled to unit norm, as the
    /// run trains).
    Encoder {
        /// Inference-only copy of the encoder ([`Encoder::frozen_copy`]).
        encoder: Box<Encoder>,
        /// Whether the run L2-normalises its embeddings.
        normalize: bool,
    },
}

/// What a finished evaluation measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WholeSetResult {
    /// The training step whose parameters were evaluated (0 for the input baselines).
    pub step: usize,
    /// Weighted-kNN accuracy on the whole held-out split.
    pub knn_acc: f64,
    /// Linear-probe accuracy on the whole held-out split (encoder features only).
    pub probe_acc: Option<f64>,
}

enum Phase {
    /// Embedding training rows (`true`) or held-out rows (`false`) from `next` on.
    Embed {
        train: bool,
        next: usize,
    },
    /// Scoring held-out rows from `next` on against the bank.
    Knn {
        bank: KnnBank,
        next: usize,
    },
    /// Fitting the linear probe.
    Probe(Box<ProbeFit>),
    Done,
}

/// One whole-set evaluation in progress (see the module docs).
pub struct WholeSetEval {
    features: Features,
    step: usize,
    phase: Phase,
    /// Training-split features (filled by the embedding phase; unused for input features,
    /// which the bank reads directly).
    train: Array2<f32>,
    /// Held-out features (encoder features only).
    test: Array2<f32>,
    /// Mean of the training inputs (centred features only).
    mean: Option<Array1<f32>>,
    correct: usize,
    knn_acc: Option<f64>,
    probe_acc: Option<f64>,
    seconds: f64,
}

/// Multiply-adds of work per unit of the kNN phase (about 10–20 ms in the browser; at least 32
/// queries per unit, so the similarity GEMM is not a matrix-vector product).
const KNN_UNIT_MACS: usize = 200_000_000;

/// The linear probe's schedule (as the trainer's).
const PROBE_EPOCHS: usize = 40;

impl WholeSetEval {
    /// An evaluation of `features` of `data`, measured at training step `step`.
    pub fn new(features: Features, step: usize, data: &Dataset) -> Self {
        let mean = matches!(features, Features::Centred)
            .then(|| data.x_train.mean_axis(Axis(0)))
            .flatten();
        let phase = match &features {
            Features::Encoder { .. } => Phase::Embed {
                train: true,
                next: 0,
            },
            Features::Raw | Features::Centred => Self::bank_phase(
                Self::input_features(data.x_train.view(), mean.as_ref()).view(),
                data,
            ),
        };
        Self {
            features,
            step,
            phase,
            train: Array2::zeros((0, 0)),
            test: Array2::zeros((0, 0)),
            mean,
            correct: 0,
            knn_acc: None,
            probe_acc: None,
            seconds: 0.0,
        }
    }

    /// An evaluation of `encoder`'s representation at `step` (a frozen copy is taken).
    pub fn of_encoder(encoder: &Encoder, normalize: bool, step: usize, data: &Dataset) -> Self {
        Self::new(
            Features::Encoder {
                encoder: Box::new(encoder.frozen_copy()),
                normalize,
            },
            step,
            data,
        )
    }

    /// The step being evaluated.
    pub fn step(&self) -> usize {
        self.step
    }

    /// Whether this evaluates the input baselines (raw or centred) rather than an encoder.
    pub fn is_baseline(&self) -> bool {
        !matches!(self.features, Features::Encoder { .. })
    }

    /// Whether the inputs are centred.
    pub fn is_centred(&self) -> bool {
        matches!(self.features, Features::Centred)
    }

    /// Seconds of work so far.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Fraction of the work done (0 to 1; the phases weighted by their usual cost).
    pub fn progress(&self, data: &Dataset) -> f64 {
        let (n_tr, n_te) = (data.x_train.nrows().max(1), data.x_test.nrows().max(1));
        let encoder = !self.is_baseline();
        let (embed_w, knn_w) = if encoder { (0.7, 0.2) } else { (0.0, 1.0) };
        match &self.phase {
            Phase::Embed { train, next } => {
                let done = if *train { *next } else { n_tr + next };
                embed_w * done as f64 / (n_tr + n_te) as f64
            }
            Phase::Knn { next, .. } => embed_w + knn_w * *next as f64 / n_te as f64,
            Phase::Probe(fit) => embed_w + knn_w + 0.1 * fit.progress(),
            Phase::Done => 1.0,
        }
    }

    /// Works for about `budget` (at least one unit) and returns the result once everything is
    /// measured. `data` must be the data the evaluation was created with.
    pub fn advance(&mut self, data: &Dataset, budget: Duration) -> Option<WholeSetResult> {
        let start = Instant::now();
        loop {
            self.unit(data);
            if matches!(self.phase, Phase::Done) || start.elapsed() >= budget {
                break;
            }
        }
        self.seconds += start.elapsed().as_secs_f64();
        self.result()
    }

    /// Runs to the end at once (tests and the CLI).
    pub fn finish(&mut self, data: &Dataset) -> WholeSetResult {
        loop {
            if let Some(r) = self.advance(data, Duration::from_secs(3600)) {
                return r;
            }
        }
    }

    /// The result, once done.
    pub fn result(&self) -> Option<WholeSetResult> {
        matches!(self.phase, Phase::Done).then_some(WholeSetResult {
            step: self.step,
            knn_acc: self.knn_acc.unwrap_or(0.0),
            probe_acc: self.probe_acc,
        })
    }

    fn input_features(x: ndarray::ArrayView2<f32>, mean: Option<&Array1<f32>>) -> Array2<f32> {
        match mean {
            Some(m) => &x - m,
            None => x.to_owned(),
        }
    }

    fn bank_phase(train: ndarray::ArrayView2<f32>, data: &Dataset) -> Phase {
        match KnnBank::new(
            train,
            &data.y_train,
            data.num_classes,
            probe::KNN_K,
            probe::KNN_T,
        ) {
            Some(bank) => Phase::Knn { bank, next: 0 },
            None => Phase::Done,
        }
    }

    /// One unit of work (a few milliseconds).
    fn unit(&mut self, data: &Dataset) {
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        self.phase = match phase {
            Phase::Embed { train, next } => self.embed_unit(data, train, next),
            Phase::Knn { bank, next } => self.knn_unit(data, bank, next),
            Phase::Probe(mut fit) => {
                fit.epoch();
                if fit.done() {
                    self.probe_acc = Some(fit.result().test_acc);
                    Phase::Done
                } else {
                    Phase::Probe(fit)
                }
            }
            Phase::Done => Phase::Done,
        };
    }

    fn embed_unit(&mut self, data: &Dataset, train: bool, next: usize) -> Phase {
        let Features::Encoder { encoder, normalize } = &self.features else {
            return Phase::Done;
        };
        let x = if train { &data.x_train } else { &data.x_test };
        let rows = match data.image_shape {
            // 128 images of 16 × 16 per unit (≈ 30 ms in the browser for the CIFAR preset).
            Some((_, h, w)) => (32768 / (h * w).max(1)).clamp(8, 512),
            None => 256,
        };
        let end = (next + rows).min(x.nrows());
        let mut h = encoder.embed_repr(&x.slice(s![next..end, ..]).to_owned());
        if *normalize {
            normalize_rows_in_place(&mut h);
        }
        let out = if train {
            &mut self.train
        } else {
            &mut self.test
        };
        if out.nrows() == 0 {
            *out = Array2::zeros((x.nrows(), h.ncols()));
        }
        out.slice_mut(s![next..end, ..]).assign(&h);
        match (end < x.nrows(), train) {
            (true, _) => Phase::Embed { train, next: end },
            (false, true) => Phase::Embed {
                train: false,
                next: 0,
            },
            (false, false) => Self::bank_phase(self.train.view(), data),
        }
    }

    fn knn_unit(&mut self, data: &Dataset, bank: KnnBank, next: usize) -> Phase {
        let n_te = data.x_test.nrows().min(data.y_test.len());
        let per_query = (bank.len() * bank.dim()).max(1);
        let end = (next + (KNN_UNIT_MACS / per_query).clamp(32, 256)).min(n_te);
        let queries = match &self.features {
            Features::Encoder { .. } => self.test.slice(s![next..end, ..]).to_owned(),
            Features::Raw | Features::Centred => {
                Self::input_features(data.x_test.slice(s![next..end, ..]), self.mean.as_ref())
            }
        };
        self.correct += bank.correct(queries.view(), &data.y_test[next..end]);
        if end < n_te {
            return Phase::Knn { bank, next: end };
        }
        self.knn_acc = Some(self.correct as f64 / n_te.max(1) as f64);
        if self.is_baseline() {
            return Phase::Done;
        }
        self.probe_phase(data)
    }

    /// The probe trains on the first half of the training features (as the trainer's).
    fn probe_phase(&mut self, data: &Dataset) -> Phase {
        let half = self.train.nrows().min(data.y_train.len()) / 2;
        let cfg = ProbeConfig {
            epochs: PROBE_EPOCHS,
            ..ProbeConfig::default()
        };
        let fit = ProbeFit::new(
            &self.train.slice(s![..half, ..]).to_owned(),
            &data.y_train[..half],
            &self.test,
            &data.y_test[..self.test.nrows().min(data.y_test.len())],
            data.num_classes,
            &cfg,
        );
        match fit {
            Some(fit) => Phase::Probe(Box::new(fit)),
            None => Phase::Done,
        }
    }
}
