//! The [`Trainer`]: one contrastive step at a time, or as many as fit in a time budget.
//!
//! A step: sample B training indices, make two augmented views of each (rows k and k+B),
//! encode the 2B rows, evaluate the loss (α, β and ∂L/∂z through the shared max-player
//! gradient), back-propagate and update. Every `eval_every` steps the trainer embeds a fixed
//! evaluation subset, measures weighted-kNN accuracy and refreshes the [`Snapshot`] the views
//! draw from. Time is measured with `web-time`, which works natively and in the browser.
//!
//! **Failures.** A non-finite loss, α or parameter gradient stops the step before the update:
//! [`Trainer::failure`] names the step and the quantity, the history is kept, and further
//! steps return the same error until [`Trainer::resume`] is called (typically after
//! [`Trainer::set_loss`], [`Trainer::set_lr`] or [`Trainer::set_optim`];
//! [`Trainer::recover_with_lr`] does both). By then the parameters are usually already huge
//! (the update *before* the failing step blew them up), so resuming first **rolls back** to
//! the last checkpoint: every [`CHECKPOINT_EVERY`] steps, once a step's loss and gradients
//! were finite, the trainer copies the parameters (with BatchNorm's running statistics) and
//! the optimiser state into reusable buffers ([`Trainer::recovery_step`] says which step they
//! are from). The step count and the history are kept.
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
use crate::nn::{Encoder, OptimState, Optimizer};
use crate::rng::Rng;
use crate::spec::SpecError;

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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
    /// The encoder's output cannot enter the loss although every value is finite (e.g. a row
    /// of zeros under L2 normalisation, as all-zero weights give): not a learning-rate
    /// problem; training is paused and the history kept.
    #[error(
        "step {step}: {reason} — training paused (the encoder's output is degenerate, e.g. all-zero weights: reset the run, load other weights or turn normalisation off)"
    )]
    Degenerate {
        /// The step that failed.
        step: usize,
        /// What is wrong with the output.
        reason: String,
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
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Step it was taken at.
    pub step: usize,
    /// α of the last training batch (2B × 2B).
    pub alpha: Array2<f32>,
    /// Labels of the 2B rows of that batch.
    pub batch_labels: Vec<usize>,
    /// Training-split indices of that batch's B samples (row r is sample `batch_indices[r % B]`).
    pub batch_indices: Vec<usize>,
    /// Representations h (the encoder's output before any projection head) of the evaluation
    /// subset (n × d), after normalisation if enabled.
    pub embeddings: Array2<f32>,
    /// 2-D PCA of `embeddings`.
    pub pca2: Array2<f32>,
    /// Labels of the evaluation subset.
    pub labels: Vec<usize>,
    /// Held-out-split indices of the evaluation subset's rows.
    pub eval_indices: Vec<usize>,
    /// Variance along the two PCA axes.
    pub pca_var: Vec<f64>,
    /// For encoders with a projection head: the head outputs z of the same subset
    /// (normalised like `embeddings`), their 2-D PCA and its variances.
    pub head: Option<(Array2<f32>, Array2<f32>, Vec<f64>)>,
}

/// Steps between two recovery checkpoints (a copy of the parameters and the optimiser state:
/// about 5 % of a standard-workload step when taken every step, so every 4th). A checkpoint is
/// only taken while ‖θ‖ has grown by at most 2× per period since the last one, so weights
/// that are finite but already blowing up (the step before a divergence) are not kept.
pub const CHECKPOINT_EVERY: usize = 4;

/// The last parameters and optimiser state known to give a finite step.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recovery {
    params: Vec<f32>,
    optim: OptimState,
    /// Steps taken when the copy was made (`None` before the first one).
    step: Option<usize>,
    /// ‖θ‖ of the copy.
    norm: f64,
}

/// Size of the fixed held-out evaluation subset embedded for the scatter and kNN (the kNN
/// memory bank is twice as many training samples).
pub const EVAL_SUBSET: usize = 512;

/// Which samples the kNN and linear-probe accuracies are measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvalProtocol {
    /// Fixed random subsets: 2·512 training samples as the memory bank, 512 held-out queries
    /// (a few milliseconds: the lab's per-frame budget).
    #[default]
    Subset,
    /// The whole training split as the memory bank and the whole held-out split as queries
    /// (the protocol of papers; the CLI's default).
    Full,
}

/// kNN accuracy of the raw inputs under the trainer's evaluation protocol: the reference a
/// learned representation has to beat.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InputBaselines {
    /// kNN (cosine) on the raw inputs.
    pub raw_knn: f64,
    /// kNN on the inputs centred by the training mean (per coordinate).
    pub centred_knn: f64,
}

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
    /// Which samples evaluations use (see [`Trainer::set_eval_protocol`]).
    pub(crate) protocol: EvalProtocol,
    /// Seconds spent in evaluations (not part of the training time).
    pub(crate) eval_seconds: f64,
    /// Phase totals while profiling ([`Trainer::set_profiling`]).
    pub(crate) profile: Option<PhaseTimes>,
    /// The last finite parameters and optimiser state (see the module docs).
    pub(crate) recovery: Recovery,
    /// `config.loss`, checked once (typed parameters for every step).
    pub(crate) loss: loss::ValidLoss,
}

/// Seconds spent in each phase of the steps taken while profiling.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Steps profiled.
    pub steps: usize,
    /// Sampling the batch and making its two augmented views.
    pub batch: f64,
    /// Encoder forward pass.
    pub forward: f64,
    /// Loss value, α and ∂L/∂z.
    pub loss: f64,
    /// Encoder backward pass.
    pub backward: f64,
    /// Optimiser update and weight constraint.
    pub update: f64,
}

impl Trainer {
    /// Builds data, encoder and optimiser from a validated config.
    pub fn new(config: RunConfig) -> Result<Self, TrainError> {
        config.validate()?;
        let data = config.data.generate(config.seed)?;
        Self::with_data(config, data)
    }

    /// Checks that a run of `config` can be built on `data` (batch size, augmentation and
    /// encoder shapes) without building it: the page checks a run before handing it to its
    /// worker.
    pub fn check_data(config: &RunConfig, data: &Dataset) -> Result<(), TrainError> {
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
        config
            .encoder
            .check_shapes(data.dim(), data.image_shape)
            .map_err(TrainError::from)
    }

    /// As [`Trainer::new`] with an already loaded data set.
    pub fn with_data(config: RunConfig, data: Dataset) -> Result<Self, TrainError> {
        Self::check_data(&config, &data)?;
        let loss = config.loss.check().map_err(SpecError::from)?;
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
            protocol: EvalProtocol::Subset,
            eval_seconds: 0.0,
            profile: None,
            recovery: Recovery::default(),
            loss,
        };
        t.refresh_snapshot();
        t.input_baselines();
        Ok(t)
    }

    /// Chooses the evaluation protocol from the next evaluation on (the step-0 point is
    /// re-measured, so the accuracy curve uses one protocol throughout) and forgets the input
    /// baselines measured under the old one.
    pub fn set_eval_protocol(&mut self, protocol: EvalProtocol) {
        if protocol != self.protocol {
            self.protocol = protocol;
            self.history.baselines = None;
            if self.step == 0 {
                self.history.evals.clear();
                self.refresh_snapshot();
            }
            self.input_baselines();
        }
    }

    /// Switches per-phase (and the encoder's per-layer) timing on, from zero, or off.
    pub fn set_profiling(&mut self, on: bool) {
        self.profile = on.then(PhaseTimes::default);
        self.encoder.set_profiling(on);
    }

    /// Phase totals since profiling was switched on.
    pub fn phase_times(&self) -> Option<PhaseTimes> {
        self.profile
    }

    /// Seconds of training so far (steps only; evaluations excluded).
    pub fn train_seconds(&self) -> f64 {
        self.train_seconds
    }

    /// Whether the fixed evaluation subsets are the whole splits (small data sets), so the
    /// regular evaluations already follow the whole-set protocol.
    pub fn subsets_are_whole_sets(&self) -> bool {
        self.protocol == EvalProtocol::Full
            || (self.eval_train_idx.len() >= self.data.x_train.nrows()
                && self.eval_test_idx.len() >= self.data.x_test.nrows())
    }

    /// Seconds spent in evaluations so far.
    pub fn eval_seconds(&self) -> f64 {
        self.eval_seconds
    }

    /// The (training, held-out) inputs and labels the protocol evaluates on.
    fn eval_sets(&self) -> (Array2<f32>, Vec<usize>, Array2<f32>, Vec<usize>) {
        match self.protocol {
            EvalProtocol::Full => (
                self.data.x_train.clone(),
                self.data.y_train.clone(),
                self.data.x_test.clone(),
                self.data.y_test.clone(),
            ),
            EvalProtocol::Subset => {
                let pick = |x: &Array2<f32>, idx: &[usize]| x.select(Axis(0), idx);
                let labels = |y: &[usize], idx: &[usize]| idx.iter().map(|&i| y[i]).collect();
                (
                    pick(&self.data.x_train, &self.eval_train_idx),
                    labels(&self.data.y_train, &self.eval_train_idx),
                    pick(&self.data.x_test, &self.eval_test_idx),
                    labels(&self.data.y_test, &self.eval_test_idx),
                )
            }
        }
    }

    /// The kNN accuracy of the raw and of the centred inputs under the current protocol
    /// (computed once, then kept in [`History::baselines`]).
    pub fn input_baselines(&mut self) -> InputBaselines {
        if let Some(b) = self.history.baselines {
            return b;
        }
        let start = Instant::now();
        let (mut tr, tr_y, mut te, te_y) = self.eval_sets();
        let k = self.data.num_classes;
        let knn = |a: &Array2<f32>, b: &Array2<f32>| {
            probe::knn_accuracy(a, &tr_y, b, &te_y, k, probe::KNN_K, probe::KNN_T)
        };
        let raw_knn = knn(&tr, &te);
        if let Some(mean) = tr.mean_axis(Axis(0)) {
            tr -= &mean;
            te -= &mean;
        }
        let b = InputBaselines {
            raw_knn,
            centred_knn: knn(&tr, &te),
        };
        self.history.baselines = Some(b);
        self.eval_seconds += start.elapsed().as_secs_f64();
        b
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> usize {
        self.step
    }

    /// Changes the loss from the next step on, keeping the encoder and optimiser state. A
    /// spec that fails [`LossSpec::check`] (only a hand-built one can: parsing checks) changes
    /// nothing.
    pub fn set_loss(&mut self, spec: LossSpec) {
        if spec != self.config.loss
            && let Ok(valid) = spec.check()
        {
            self.history
                .loss_changes
                .push((self.step + 1, spec.to_text()));
            self.config.loss = spec;
            self.loss = valid;
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

    /// Clears a divergence so training may continue (after the user changed something),
    /// first rolling the parameters and the optimiser state back to the last checkpoint
    /// ([`Trainer::rollback`]). Without a divergence it only clears nothing.
    pub fn resume(&mut self) {
        if self.failure.is_some() {
            self.rollback();
        }
        self.failure = None;
    }

    /// "Lower the learning rate and continue": sets the learning rate (the config's optimiser
    /// text shows it), rolls back to the last finite parameters and clears the divergence.
    pub fn recover_with_lr(&mut self, lr: f64) {
        self.set_lr(lr);
        self.resume();
    }

    /// The step whose parameters a rollback returns to (the last checkpoint), if any.
    pub fn recovery_step(&self) -> Option<usize> {
        self.recovery.step
    }

    /// Restores the parameters (and BatchNorm statistics) and the optimiser state of the last
    /// checkpoint, keeping the optimiser's hyper-parameters, the step count and the history.
    /// Returns the checkpoint's step, or `None` (nothing changed) when there is none yet —
    /// a run that diverges at its first step still has its initial parameters.
    pub fn rollback(&mut self) -> Option<usize> {
        let step = self.recovery.step?;
        if !self.encoder.restore_state(&self.recovery.params) {
            return None;
        }
        self.optim.restore_state(&self.recovery.optim);
        Some(step)
    }

    /// Copies the parameters and the optimiser state into the recovery buffers, unless ‖θ‖
    /// grew faster than 2× per [`CHECKPOINT_EVERY`] steps since the last copy (a blow-up in
    /// progress: the older copy is the one to return to).
    fn checkpoint_if_sane(&mut self) {
        let norm = self
            .encoder
            .params_and_grads()
            .iter()
            .flat_map(|(p, _)| p.iter())
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        if !norm.is_finite() {
            return;
        }
        if let Some(at) = self.recovery.step {
            let periods = (self.step - at) as f64 / CHECKPOINT_EVERY as f64;
            let allowed = self.recovery.norm.max(1e-6) * 2f64.powf(periods.min(1000.0));
            if norm > allowed {
                return;
            }
        }
        self.encoder.save_state(&mut self.recovery.params);
        self.optim.save_state(&mut self.recovery.optim);
        self.recovery.step = Some(self.step);
        self.recovery.norm = norm;
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
        let t_batch = Instant::now();
        let z = self.encoder.forward_view(x.view());
        let t_forward = Instant::now();
        let out = match self.loss.evaluate::<f32>(z, self.config.normalize) {
            Ok(o) => o,
            Err(loss::LossError::NonFinite(what)) => {
                let what = match what {
                    loss::NonFinite::Embeddings => "the embeddings (encoder output)".to_string(),
                    other => other.to_string(),
                };
                return Err(self.fail(step, what));
            }
            Err(loss::LossError::Params(e)) => return Err(TrainError::Config(e.to_string())),
            Err(loss::LossError::Input(reason)) => {
                let reason = format!("the embeddings (encoder output): {reason}");
                let e = TrainError::Degenerate { step, reason };
                self.failure = Some(e.clone());
                return Err(e);
            }
        };
        let t_loss = Instant::now();
        self.encoder.backward(&out.grad);
        if !self.encoder.grad_norm_sq().is_finite() {
            return Err(self.fail(step, "the parameter gradient".into()));
        }
        let t_backward = Instant::now();
        // θ gave a finite step: keep it (every few steps) for a rollback after a divergence.
        if self.step.is_multiple_of(CHECKPOINT_EVERY) || self.recovery.step.is_none() {
            self.checkpoint_if_sane();
        }
        self.optim.step(self.encoder.params_and_grads());
        self.encoder.apply_constraint();
        if let Some(p) = &mut self.profile {
            let secs = |a: Instant, b: Instant| (b - a).as_secs_f64();
            p.steps += 1;
            p.batch += secs(start, t_batch);
            p.forward += secs(t_batch, t_forward);
            p.loss += secs(t_forward, t_loss);
            p.backward += secs(t_loss, t_backward);
            p.update += secs(t_backward, Instant::now());
        }
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

    /// Measures kNN accuracy (and every [`super::history::PROBE_EVERY`]-th time the linear
    /// probe) of the representation h under the evaluation protocol, and refreshes the
    /// snapshot from the fixed held-out subset.
    pub fn refresh_snapshot(&mut self) {
        let start = Instant::now();
        let normalize = normalize_rows_in_place;
        // Under the subset protocol the held-out rows are the views' subset: keep their raw h
        // for the projection head instead of embedding them again.
        let head_wanted = self.config.encoder.has_head();
        let subset = self.protocol == EvalProtocol::Subset;
        let (tr_z, tr_y, te_z, te_y, te_raw) =
            self.eval_embeddings_keeping_raw(subset && head_wanted);
        let acc = probe::knn_accuracy(
            &tr_z,
            &tr_y,
            &te_z,
            &te_y,
            self.data.num_classes,
            probe::KNN_K,
            probe::KNN_T,
        );
        if self.step > 0 || self.history.evals.is_empty() {
            // The linear probe (softmax regression on frozen, standardised features) is far
            // dearer than kNN, so it runs on every PROBE_EVERY-th evaluation only, on half of
            // the training set and a short schedule.
            let probe_acc = (self
                .history
                .evals
                .len()
                .is_multiple_of(super::history::PROBE_EVERY))
            .then(|| self.probe_acc(&tr_z, &tr_y, &te_z, &te_y))
            .flatten();
            self.history.evals.push(EvalPoint {
                step: self.step,
                knn_acc: acc,
                probe_acc,
            });
        }
        // The views draw the fixed held-out subset (h, and z for an encoder with a head).
        let (te_z, head_z) = if subset && !head_wanted {
            (te_z, None)
        } else {
            let h = te_raw.unwrap_or_else(|| {
                self.encoder
                    .embed_repr(&self.data.x_test.select(Axis(0), &self.eval_test_idx))
            });
            let mut z = head_wanted.then(|| self.encoder.head_of(&h));
            let mut h = h;
            if self.config.normalize {
                normalize(&mut h);
                if let Some(z) = &mut z {
                    normalize(z);
                }
            }
            (h, z)
        };
        let head = head_z.map(|z| {
            let (p2, var) = pca::project(&z, 2);
            (z, p2, var)
        });
        let labels = self
            .eval_test_idx
            .iter()
            .map(|&i| self.data.y_test[i])
            .collect();
        let (pca2, pca_var) = pca::project(&te_z, 2);
        self.snapshot = Snapshot {
            step: self.step,
            alpha: self.last_alpha.clone(),
            batch_labels: self.last_batch_labels.clone(),
            batch_indices: self.last_batch_idx.clone(),
            embeddings: te_z,
            pca2,
            labels,
            eval_indices: self.eval_test_idx.clone(),
            pca_var,
            head,
        };
        self.eval_seconds += start.elapsed().as_secs_f64();
    }

    /// Representations h of the protocol's training and held-out inputs (normalised when the
    /// run normalises), with their labels.
    fn eval_embeddings(&self) -> (Array2<f32>, Vec<usize>, Array2<f32>, Vec<usize>) {
        let (tr_z, tr_y, te_z, te_y, _) = self.eval_embeddings_keeping_raw(false);
        (tr_z, tr_y, te_z, te_y)
    }

    /// As [`Trainer::eval_embeddings`]; with `keep_raw` also the held-out representations
    /// before normalisation (the projection head's input).
    #[allow(clippy::type_complexity)]
    fn eval_embeddings_keeping_raw(
        &self,
        keep_raw: bool,
    ) -> (
        Array2<f32>,
        Vec<usize>,
        Array2<f32>,
        Vec<usize>,
        Option<Array2<f32>>,
    ) {
        let (tr_x, tr_y, te_x, te_y) = self.eval_sets();
        let mut tr_z = self.encoder.embed_repr(&tr_x);
        let mut te_z = self.encoder.embed_repr(&te_x);
        let raw = keep_raw.then(|| te_z.clone());
        if self.config.normalize {
            normalize_rows_in_place(&mut tr_z);
            normalize_rows_in_place(&mut te_z);
        }
        (tr_z, tr_y, te_z, te_y, raw)
    }

    /// The linear probe's held-out accuracy on frozen features (trained on the first half of
    /// the training rows with a short schedule).
    fn probe_acc(
        &self,
        tr_z: &Array2<f32>,
        tr_y: &[usize],
        te_z: &Array2<f32>,
        te_y: &[usize],
    ) -> Option<f64> {
        let half = tr_z.nrows() / 2;
        let cfg = probe::ProbeConfig {
            epochs: 40,
            ..probe::ProbeConfig::default()
        };
        probe::linear_probe(
            &tr_z.slice(ndarray::s![..half, ..]).to_owned(),
            &tr_y[..half],
            te_z,
            te_y,
            self.data.num_classes,
            &cfg,
        )
        .map(|r| r.test_acc)
    }

    /// Runs the linear probe at the latest evaluation if that evaluation skipped it (the probe
    /// runs on every [`super::history::PROBE_EVERY`]-th evaluation only), so that
    /// [`History::last_probe`](super::History::last_probe) is the current representation's.
    pub fn probe_last_eval(&mut self) {
        if self
            .history
            .evals
            .last()
            .is_none_or(|e| e.probe_acc.is_some())
        {
            return;
        }
        let start = Instant::now();
        let (tr_z, tr_y, te_z, te_y) = self.eval_embeddings();
        let acc = self.probe_acc(&tr_z, &tr_y, &te_z, &te_y);
        if let Some(e) = self.history.evals.last_mut() {
            e.probe_acc = acc;
        }
        self.eval_seconds += start.elapsed().as_secs_f64();
    }
}

/// Scales every row of `m` to unit L2 norm (rows of norm below 1e-12 are divided by 1e-12).
pub(crate) fn normalize_rows_in_place(m: &mut Array2<f32>) {
    for mut r in m.axis_iter_mut(Axis(0)) {
        let n = r.dot(&r).sqrt().max(1e-12);
        r.mapv_inplace(|v| v / n);
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
        self.recovery = Recovery::default();
        if self.step == 0 {
            // Before any step the evaluation of the initial weights is replaced, so that the
            // step-0 point (and a `--steps 0` run) measures the loaded ones.
            self.history.evals.clear();
        }
        self.refresh_snapshot();
        Ok(())
    }

    /// Embeddings z of the first `n` test samples (fewer if the test set is smaller): no
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
