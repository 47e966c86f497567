//! The [`Trainer`]: one contrastive step at a time, or as many as fit in a time budget.
//!
//! A step: sample B training indices, make two augmented views of each (rows k and k+B),
//! encode the 2B rows, evaluate the loss (α, β and ∂L/∂z through the shared max-player
//! gradient), back-propagate and update. Every `eval_every` steps the trainer embeds a fixed
//! evaluation subset, measures weighted-kNN accuracy and refreshes the [`Snapshot`] the views
//! draw from. Time is measured with `web-time`, which works natively and in the browser.
//!
//! **Failures.** A non-finite loss, α or parameter gradient stops the step before the update:
//! the parameters stay as they were, [`Trainer::failure`] names the step and the quantity, the
//! history is kept, and further steps return the same error until [`Trainer::resume`] is called
//! (typically after [`Trainer::set_loss`], [`Trainer::set_lr`] or [`Trainer::set_optim`]).
//!
//! **Reproducibility.** Every random stream derives from the config's seed ([`Rng::derive`]),
//! so the same config and seed give bit-identical losses on one target. Across targets (x86-64
//! natively, wasm32 in the browser) the GEMM kernels and libm round differently; the first 20
//! losses of a fixed run agree to a relative **1e-4** (checked by `tests/train_repro.rs`
//! natively and `tests/web_repro.rs` in wasm against the same recorded constants; the observed
//! difference is far smaller).

use ndarray::{Array2, Axis};
use web_time::{Duration, Instant};

use super::config::RunConfig;
use super::history::{EvalPoint, History};
use crate::analysis::{pca, probe};
use crate::data::Dataset;
use crate::loss::{self, LossSpec};
use crate::nn::{Encoder, Optimizer};
use crate::rng::Rng;
use crate::spec::SpecError;

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// The configuration cannot be run.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A NaN/inf appeared; training is paused and the history kept.
    #[error(
        "step {step}: {what} became non-finite — training paused (lower the learning rate or change the loss, then continue)"
    )]
    Diverged {
        /// The step that failed.
        step: usize,
        /// Which quantity.
        what: String,
    },
}

impl From<SpecError> for TrainError {
    fn from(e: SpecError) -> Self {
        Self::Config(e.0)
    }
}

/// Result of one step.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// Step number (1-based).
    pub step: usize,
    /// Loss value.
    pub loss: f32,
}

/// What the views draw; refreshed every `eval_every` steps (never per frame).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Step it was taken at.
    pub step: usize,
    /// α of the last training batch (2B × 2B).
    pub alpha: Array2<f32>,
    /// Labels of the 2B rows of that batch.
    pub batch_labels: Vec<usize>,
    /// Training-split indices of that batch's B samples (row r is sample `batch_indices[r % B]`).
    pub batch_indices: Vec<usize>,
    /// Embeddings of the evaluation subset (n × d), after normalisation if enabled.
    pub embeddings: Array2<f32>,
    /// 2-D PCA of `embeddings`.
    pub pca2: Array2<f32>,
    /// Labels of the evaluation subset.
    pub labels: Vec<usize>,
    /// Held-out-split indices of the evaluation subset's rows.
    pub eval_indices: Vec<usize>,
    /// Variance along the two PCA axes.
    pub pca_var: Vec<f64>,
}

/// Size of the fixed evaluation subset embedded for the scatter and kNN.
const EVAL_SUBSET: usize = 512;

/// Trains one run.
pub struct Trainer {
    /// The run's configuration (the loss and optimiser may be changed live).
    pub config: RunConfig,
    /// The data.
    pub data: Dataset,
    /// The encoder being trained.
    pub encoder: Encoder,
    /// Its optimiser state.
    pub optim: Optimizer,
    /// The record of the run.
    pub history: History,
    /// The latest snapshot for the views.
    pub snapshot: Snapshot,
    /// Set when the run diverged; cleared by [`Trainer::resume`].
    pub failure: Option<TrainError>,
    pub(crate) rng: Rng,
    pub(crate) step: usize,
    pub(crate) train_seconds: f64,
    pub(crate) eval_train_idx: Vec<usize>,
    pub(crate) eval_test_idx: Vec<usize>,
    pub(crate) last_alpha: Array2<f32>,
    pub(crate) last_batch_labels: Vec<usize>,
    pub(crate) last_batch_idx: Vec<usize>,
}

impl Trainer {
    /// Builds data, encoder and optimiser from a validated config.
    pub fn new(config: RunConfig) -> Result<Self, TrainError> {
        config.validate()?;
        let data = config.data.generate(config.seed)?;
        Self::with_data(config, data)
    }

    /// As [`Trainer::new`] with an already loaded data set.
    pub fn with_data(config: RunConfig, data: Dataset) -> Result<Self, TrainError> {
        if config.batch > data.x_train.nrows() {
            return Err(TrainError::Config(format!(
                "batch ({}) is larger than the training set ({} samples)",
                config.batch,
                data.x_train.nrows()
            )));
        }
        config
            .augment
            .check_data(data.dim(), data.image_shape)
            .map_err(|e| TrainError::Config(e.0))?;
        let mut init_rng = Rng::derive(config.seed, "init");
        let encoder = config
            .encoder
            .build::<f32>(data.dim(), data.image_shape, &mut init_rng)?;
        let optim = Optimizer::new(config.optim.clone());
        let mut eval_rng = Rng::derive(config.seed, "eval");
        let eval_train_idx = eval_rng.sample_indices(data.x_train.nrows(), 2 * EVAL_SUBSET);
        let eval_test_idx = eval_rng.sample_indices(data.x_test.nrows(), EVAL_SUBSET);
        let mut history = History::default();
        history.loss_changes.push((1, config.loss.to_text()));
        let mut t = Self {
            rng: Rng::derive(config.seed, "batches"),
            config,
            data,
            encoder,
            optim,
            history,
            snapshot: Snapshot::default(),
            failure: None,
            step: 0,
            train_seconds: 0.0,
            eval_train_idx,
            eval_test_idx,
            last_alpha: Array2::zeros((0, 0)),
            last_batch_labels: Vec::new(),
            last_batch_idx: Vec::new(),
        };
        t.refresh_snapshot();
        Ok(t)
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> usize {
        self.step
    }

    /// Changes the loss from the next step on, keeping the encoder and optimiser state.
    pub fn set_loss(&mut self, spec: LossSpec) {
        if spec != self.config.loss {
            self.history
                .loss_changes
                .push((self.step + 1, spec.to_text()));
            self.config.loss = spec;
        }
    }

    /// Changes the learning rate from the next step on.
    pub fn set_lr(&mut self, lr: f64) {
        self.config.optim = self.config.optim.with_lr(lr);
        self.optim.spec = self.config.optim.clone();
    }

    /// Replaces the optimiser's hyper-parameters from the next step on (moment buffers and the
    /// step count are kept, so switching e.g. the learning rate or decay is smooth).
    pub fn set_optim(&mut self, spec: crate::nn::OptimSpec) {
        self.config.optim = spec.clone();
        self.optim.spec = spec;
    }

    /// Clears a divergence so training may continue (after the user changed something).
    pub fn resume(&mut self) {
        self.failure = None;
    }

    /// Makes the two augmented views of a batch: rows k and k+B are a positive pair.
    pub(crate) fn make_batch(&mut self) -> (Array2<f32>, Vec<usize>) {
        let b = self.config.batch;
        let idx = self.rng.sample_indices(self.data.x_train.nrows(), b);
        self.last_batch_idx.clone_from(&idx);
        let d = self.data.dim();
        let mut x = Array2::<f32>::zeros((2 * b, d));
        let mut labels = vec![0; 2 * b];
        for (k, &i) in idx.iter().enumerate() {
            let src = self.data.x_train.row(i);
            let shape = self.data.image_shape;
            self.config
                .augment
                .apply_image(src, shape, x.row_mut(k), &mut self.rng);
            self.config
                .augment
                .apply_image(src, shape, x.row_mut(k + b), &mut self.rng);
            labels[k] = self.data.y_train[i];
            labels[k + b] = self.data.y_train[i];
        }
        (x, labels)
    }

    /// One optimisation step. On a non-finite loss or gradient the parameters are left
    /// untouched, the run is marked failed and the error returned.
    pub fn step(&mut self) -> Result<StepReport, TrainError> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        let start = Instant::now();
        let step = self.step + 1;
        let (x, labels) = self.make_batch();
        let z = self.encoder.forward_view(x.view());
        let out = match loss::evaluate::<f32>(&self.config.loss, z, self.config.normalize) {
            Ok(o) => o,
            Err(loss::LossError::NonFinite(what)) => {
                let what = if what == "input embeddings" {
                    "the embeddings (encoder output)".to_string()
                } else {
                    what
                };
                return Err(self.fail(step, what));
            }
            Err(e) => return Err(self.fail(step, e.to_string())),
        };
        self.encoder.backward(&out.grad);
        if !self.encoder.grad_norm_sq().is_finite() {
            return Err(self.fail(step, "the parameter gradient".into()));
        }
        self.optim.step(self.encoder.params_and_grads());
        self.encoder.apply_constraint();
        self.step = step;
        self.last_alpha = out.alpha;
        self.last_batch_labels = labels;
        self.train_seconds += start.elapsed().as_secs_f64();
        self.history.loss.push(out.loss);
        self.history.time.push(self.train_seconds as f32);
        if step.is_multiple_of(self.config.eval_every) {
            self.refresh_snapshot();
        }
        Ok(StepReport {
            step,
            loss: out.loss,
        })
    }

    pub(crate) fn fail(&mut self, step: usize, what: String) -> TrainError {
        let e = TrainError::Diverged { step, what };
        self.failure = Some(e.clone());
        e
    }

    /// Runs steps until `budget` is used (at least one step). Returns the steps taken.
    pub fn run_for(&mut self, budget: Duration) -> Result<usize, TrainError> {
        let start = Instant::now();
        let mut n = 0;
        loop {
            self.step()?;
            n += 1;
            if start.elapsed() >= budget {
                return Ok(n);
            }
        }
    }

    /// Embeds the evaluation subsets, measures kNN accuracy and refreshes the snapshot.
    pub fn refresh_snapshot(&mut self) {
        let pick = |x: &Array2<f32>, idx: &[usize]| x.select(Axis(0), idx);
        let tr_x = pick(&self.data.x_train, &self.eval_train_idx);
        let te_x = pick(&self.data.x_test, &self.eval_test_idx);
        let tr_y: Vec<usize> = self
            .eval_train_idx
            .iter()
            .map(|&i| self.data.y_train[i])
            .collect();
        let te_y: Vec<usize> = self
            .eval_test_idx
            .iter()
            .map(|&i| self.data.y_test[i])
            .collect();
        let mut tr_z = self.encoder.embed(&tr_x);
        let mut te_z = self.encoder.embed(&te_x);
        if self.config.normalize {
            for m in [&mut tr_z, &mut te_z] {
                for mut r in m.axis_iter_mut(Axis(0)) {
                    let n = r.dot(&r).sqrt().max(1e-12);
                    r.mapv_inplace(|v| v / n);
                }
            }
        }
        let acc = probe::knn_accuracy(&tr_z, &tr_y, &te_z, &te_y, self.data.num_classes, 20, 0.07);
        if self.step > 0 || self.history.evals.is_empty() {
            // The linear probe (softmax regression on frozen, standardised features) is far
            // dearer than kNN, so it runs on every PROBE_EVERY-th evaluation only, on half of
            // the training subset and a short schedule.
            let probe_acc = (self
                .history
                .evals
                .len()
                .is_multiple_of(super::history::PROBE_EVERY))
            .then(|| {
                let half = tr_z.nrows() / 2;
                let cfg = probe::ProbeConfig {
                    epochs: 40,
                    ..probe::ProbeConfig::default()
                };
                probe::linear_probe(
                    &tr_z.slice(ndarray::s![..half, ..]).to_owned(),
                    &tr_y[..half],
                    &te_z,
                    &te_y,
                    self.data.num_classes,
                    &cfg,
                )
                .map(|r| r.test_acc)
            })
            .flatten();
            self.history.evals.push(EvalPoint {
                step: self.step,
                knn_acc: acc,
                probe_acc,
            });
        }
        let (pca2, pca_var) = pca::project(&te_z, 2);
        self.snapshot = Snapshot {
            step: self.step,
            alpha: self.last_alpha.clone(),
            batch_labels: self.last_batch_labels.clone(),
            batch_indices: self.last_batch_idx.clone(),
            embeddings: te_z,
            pca2,
            labels: te_y,
            eval_indices: self.eval_test_idx.clone(),
            pca_var,
        };
    }
}

/// Saving and loading the encoder's weights (format: [`crate::nn::weights`]).
impl Trainer {
    /// The encoder's weights as `weights.json` text, recording the step count and the run's
    /// config text. Values round-trip bit-exactly through [`Trainer::load_weights_json`].
    pub fn weights_json(&self) -> String {
        self.encoder
            .export_weights(self.step, &self.config.to_text())
            .to_json()
    }

    /// Loads weights saved by [`Trainer::weights_json`] (here or in another run with the same
    /// encoder spec and data dimensions).
    ///
    /// Everything is parsed and checked first; on error the trainer is left exactly as it was.
    /// On success the encoder's parameters are replaced, the optimiser restarts from a fresh
    /// state (moment buffers zeroed and its step count reset to 0, so a warm-up or cosine
    /// schedule starts again), a divergence ([`Trainer::failure`]) is cleared, the step
    /// counter and history are kept, and the snapshot is refreshed (adding an evaluation point
    /// at the current step that measures the loaded weights).
    pub fn load_weights_json(&mut self, text: &str) -> Result<(), crate::nn::WeightsError> {
        let file = crate::nn::WeightsFile::parse(text)?;
        self.encoder.import_weights(&file)?;
        self.optim = Optimizer::new(self.config.optim.clone());
        self.failure = None;
        self.refresh_snapshot();
        Ok(())
    }

    /// Embeddings of the first `n` test samples (fewer if the test set is smaller): no
    /// augmentation, L2-normalised like the snapshot when `config.normalize` is set. A fixed
    /// probe to compare encoders, e.g. before and after a weights round trip.
    pub fn probe_embeddings(&self, n: usize) -> Array2<f32> {
        let n = n.min(self.data.x_test.nrows());
        let x = self.data.x_test.slice(ndarray::s![..n, ..]).to_owned();
        let mut z = self.encoder.embed(&x);
        if self.config.normalize {
            for mut r in z.axis_iter_mut(Axis(0)) {
                let norm = r.dot(&r).sqrt().max(1e-12);
                r.mapv_inplace(|v| v / norm);
            }
        }
        z
    }
}
