//! [`RunMirror`]: the page's view of a run that trains elsewhere.

use std::sync::Arc;

use super::RunUpdate;
use crate::analysis::theorem1::Theorem1Readout;
use crate::data::Dataset;
use crate::train::{History, RunConfig, Snapshot, TrainError};

/// Everything the views draw of one run, kept current by [`RunUpdate`]s. Field names are the
/// [`Trainer`](crate::train::Trainer)'s, so a view reads a mirror as it would read a trainer.
#[derive(Debug, Clone)]
pub struct RunMirror {
    /// The run's config (as the engine last reported it: the loss and learning rate change
    /// live).
    pub config: RunConfig,
    /// The data (shared by the runs that use the same file).
    pub data: Arc<Dataset>,
    /// The record of the run.
    pub history: History,
    /// The latest snapshot.
    pub snapshot: Snapshot,
    /// Set when the run diverged.
    pub failure: Option<TrainError>,
    /// Whether the engine trains.
    pub running: bool,
    /// Whether the engine has sent its first update (until then there is nothing to draw).
    pub ready: bool,
    /// Which incarnation of the run this mirror follows.
    pub generation: u32,
    /// Fingerprint of the encoder (see [`super::fingerprint`]).
    pub fingerprint: Option<String>,
    /// The Theorem 1 readout at the snapshot, while the Theory view watches it.
    pub theorem1: Option<Result<Theorem1Readout, String>>,
    /// Training steps per second (engine wall time).
    pub steps_per_sec: f64,
    /// Seconds of training.
    pub train_seconds: f64,
    /// The whole-set evaluation in progress, if any.
    pub whole_set_progress: Option<super::WholeSetProgress>,
    step: usize,
}

impl RunMirror {
    /// A mirror of a run of `config` on `data` that has not reported yet.
    pub fn new(config: RunConfig, data: Arc<Dataset>, generation: u32) -> Self {
        Self {
            config,
            data,
            history: History::default(),
            snapshot: Snapshot::default(),
            failure: None,
            running: false,
            ready: false,
            generation,
            fingerprint: None,
            theorem1: None,
            steps_per_sec: 0.0,
            train_seconds: 0.0,
            whole_set_progress: None,
            step: 0,
        }
    }

    /// Whether the fixed evaluation subsets are the whole splits (small data sets), so the
    /// regular evaluations already are whole-set evaluations (as
    /// [`Trainer::subsets_are_whole_sets`](crate::train::Trainer::subsets_are_whole_sets)).
    pub fn subsets_are_whole_sets(&self) -> bool {
        use crate::train::trainer::EVAL_SUBSET;
        self.data.x_train.nrows() <= 2 * EVAL_SUBSET && self.data.x_test.nrows() <= EVAL_SUBSET
    }

    /// Steps taken.
    pub fn step_count(&self) -> usize {
        self.step
    }

    /// Applies an update of this generation (others are ignored). Returns whether it applied.
    pub fn apply(&mut self, u: RunUpdate) -> bool {
        if u.generation != self.generation {
            return false;
        }
        let h = &mut self.history;
        if u.loss_from <= h.loss.len() {
            h.loss.truncate(u.loss_from);
            h.time.truncate(u.loss_from);
            h.loss.extend_from_slice(&u.loss);
            h.time.extend_from_slice(&u.time);
        }
        if let Some(c) = u.loss_changes {
            h.loss_changes = c;
        }
        if u.evals_from <= h.evals.len() {
            h.evals.truncate(u.evals_from);
            h.evals.extend_from_slice(&u.evals);
        }
        if u.baselines.is_some() {
            h.baselines = u.baselines;
        }
        if u.whole_set_from <= h.whole_set.len() {
            h.whole_set.truncate(u.whole_set_from);
            h.whole_set.extend_from_slice(&u.whole_set);
        }
        if u.whole_set_baselines.is_some() {
            h.whole_set_baselines = u.whole_set_baselines;
        }
        self.whole_set_progress = u.whole_set_progress;
        for (i, c) in u.collapse {
            if h.collapse.len() <= i {
                h.collapse.resize_with(i + 1, Default::default);
            }
            let s = &mut h.collapse[i];
            if c.trace_from <= s.trace.len() {
                s.trace.truncate(c.trace_from);
                s.trace.extend(c.trace);
            }
            s.spectra = c.spectra;
            s.current = c.current;
            s.error = c.error;
        }
        // Only the loss and the optimiser change live; the rest stays as the page built it.
        if let Some(text) = u.config
            && let Ok(cfg) = RunConfig::parse(&text)
        {
            self.config.loss = cfg.loss;
            self.config.optim = cfg.optim;
        }
        if let Some(s) = u.snapshot {
            self.snapshot = s;
        }
        if u.fingerprint.is_some() {
            self.fingerprint = u.fingerprint;
        }
        if u.theorem1.is_some() {
            self.theorem1 = u.theorem1;
        }
        self.failure = u.failure;
        self.running = u.running;
        self.steps_per_sec = u.steps_per_sec;
        self.train_seconds = u.train_seconds;
        self.step = u.step;
        self.ready = true;
        true
    }
}
