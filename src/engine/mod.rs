//! Runs behind a message boundary: the page talks to every run through [`Command`]s and
//! hears back [`Event`]s.
//!
//! One [`RunEngine`] owns a run's [`Trainer`](crate::train::Trainer) and its data. In the
//! browser each engine lives in its own Web Worker (`src/worker.rs`), so runs train in
//! parallel and the page's thread only draws; where workers are unavailable the page holds the
//! engine itself and pumps it within the frame budget. Either way the page sees a run only
//! through its [`RunMirror`]: the config, the history, the latest snapshot and the metrics,
//! kept current by [`RunUpdate`]s that carry only what changed.
//!
//! Messages are serde types in a compact binary form ([`encode`], [`decode`]: postcard).
//! Prepared data files travel beside a [`Command::Start`] as raw bytes, once per run.

pub mod bench;
mod mirror;
mod run;
#[cfg(all(target_arch = "wasm32", feature = "app"))]
pub mod worker;

pub use mirror::RunMirror;
pub use run::{RunEngine, THEOREM1_PAIRS};

use crate::analysis::spectrum::CollapseMetrics;
use crate::analysis::theorem1::Theorem1Readout;
use crate::train::history::{CollapsePoint, EvalPoint};
use crate::train::players::{MaxReport, MinReport, PlayerMove};
use crate::train::{InputBaselines, Snapshot, TrainError};
use bench::{BenchKind, BenchRunner};

/// A request from the page to one run's engine. Every command takes effect before the next
/// training slice (a slice is at most [`SLICE_MS`] long).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Command {
    /// Builds the run from its config text (replacing any previous one). A run on a prepared
    /// data file receives the file's bytes beside this command. Events of the run carry
    /// `generation`, so the page ignores events of a run it has replaced.
    Start {
        /// The run's config ([`RunConfig::to_text`](crate::train::RunConfig::to_text)).
        config: String,
        /// Which incarnation of the page's run this is.
        generation: u32,
        /// Start training at once.
        play: bool,
    },
    /// Train continuously.
    Play,
    /// Stop training after the current step.
    Pause,
    /// Exactly one optimisation step, then pause (the snapshot is refreshed after it).
    Step,
    /// Change the loss from the next step on (text form of a [`LossSpec`](crate::loss::LossSpec)).
    SetLoss(String),
    /// Change the learning rate from the next step on.
    SetLr(f64),
    /// After a divergence: set the learning rate, roll back to the last finite parameters
    /// ([`Trainer::recover_with_lr`](crate::train::Trainer::recover_with_lr)), clear the
    /// failure and play.
    Recover {
        /// The new learning rate.
        lr: f64,
    },
    /// Clear a divergence (after the user changed something).
    Resume,
    /// Load encoder weights (`weights.json` text); answered by [`Event::Imported`].
    ImportWeights(String),
    /// Ask for the encoder weights; answered by [`Event::Weights`].
    ExportWeights,
    /// Fraction of the engine's time spent training while playing (0.05 to 1).
    SetShare(f64),
    /// Compute the Theorem 1 readout at every snapshot (while the Theory view is open).
    WatchTheorem1(bool),
    /// Coordinate-wise stepping: `times` moves of one player (answered by [`Event::Players`]).
    Player {
        /// Which player.
        mv: PlayerMove,
        /// How many moves.
        times: usize,
    },
    /// Run an in-page benchmark instead of training (answered by [`Event::Bench`]).
    Bench(BenchKind),
    /// Evaluate the current parameters on the whole held-out split now (even while paused),
    /// unless the latest whole-set evaluation is of the current step already.
    EvaluateWholeSet,
}

/// Longest training slice of an engine between two looks at its mailbox (ms).
pub const SLICE_MS: f64 = 25.0;

/// A message from a run's engine to the page.
#[derive(serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// What changed since the last update.
    Update(Box<RunUpdate>),
    /// The run could not be built (the page's checks passed, the engine's did not).
    StartFailed {
        /// The run's generation.
        generation: u32,
        /// Why.
        error: String,
    },
    /// The encoder weights, as asked by [`Command::ExportWeights`].
    Weights(String),
    /// The outcome of [`Command::ImportWeights`].
    Imported(Result<(), String>),
    /// The coordinate-wise stepping state after [`Command::Player`].
    Players(Box<PlayersState>),
    /// Benchmark figures so far.
    Bench(Box<BenchRunner>),
}

/// The part of a run's state that changed since the previous update. Append-only series are
/// sent from an index (`*_from`), so the page appends; everything else replaces.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RunUpdate {
    /// The run's generation (see [`Command::Start`]).
    pub generation: u32,
    /// Steps taken.
    pub step: usize,
    /// Whether the engine is training.
    pub running: bool,
    /// The config text, when it changed (loss or learning rate).
    pub config: Option<String>,
    /// Index in the loss series of `loss[0]`.
    pub loss_from: usize,
    /// New loss values.
    pub loss: Vec<f32>,
    /// Their training times (s).
    pub time: Vec<f32>,
    /// The whole loss-change list, when it changed.
    pub loss_changes: Option<Vec<(usize, String)>>,
    /// Index of `evals[0]` in the evaluation series.
    pub evals_from: usize,
    /// New evaluation points (or a re-measured last one: `evals_from` then repeats it).
    pub evals: Vec<EvalPoint>,
    /// The input baselines, when first measured.
    pub baselines: Option<InputBaselines>,
    /// Index of `whole_set[0]` in the whole-set evaluation series.
    pub whole_set_from: usize,
    /// New whole-set evaluation points.
    pub whole_set: Vec<EvalPoint>,
    /// The input baselines under the whole-set protocol, when first measured.
    pub whole_set_baselines: Option<InputBaselines>,
    /// The whole-set evaluation in progress, if any (replaces the previous value).
    pub whole_set_progress: Option<WholeSetProgress>,
    /// Collapse series that changed: (stage index, update).
    pub collapse: Vec<(usize, CollapseUpdate)>,
    /// The new snapshot, when it changed.
    pub snapshot: Option<Snapshot>,
    /// The divergence, if the run is stopped by one.
    pub failure: Option<TrainError>,
    /// Fingerprint of the encoder (FNV-1a of the embeddings of 8 held-out samples), when it
    /// changed.
    pub fingerprint: Option<String>,
    /// The Theorem 1 readout at the snapshot, while watched.
    pub theorem1: Option<Result<Theorem1Readout, String>>,
    /// Training steps per second over the last second (wall time of the engine).
    pub steps_per_sec: f64,
    /// Seconds of training so far.
    pub train_seconds: f64,
}

/// A whole-set evaluation in progress ([`crate::train::whole_set`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WholeSetProgress {
    /// The step whose parameters are evaluated (0 for the input baselines).
    pub step: usize,
    /// Fraction done, in whole percent.
    pub percent: u8,
    /// What is evaluated.
    pub what: WholeSetTarget,
}

/// What a whole-set evaluation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum WholeSetTarget {
    /// The raw inputs (reference line).
    RawInputs,
    /// The centred inputs (reference line).
    CentredInputs,
    /// The encoder's representation h.
    Representation,
}

impl WholeSetTarget {
    /// Short description for the status bar.
    pub fn label(self) -> &'static str {
        match self {
            WholeSetTarget::RawInputs => "raw inputs",
            WholeSetTarget::CentredInputs => "centred inputs",
            WholeSetTarget::Representation => "representation h",
        }
    }
}

/// New points of one collapse series, with its replaced parts.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CollapseUpdate {
    /// Index of `trace[0]` in the series.
    pub trace_from: usize,
    /// New trajectory points.
    pub trace: Vec<CollapsePoint>,
    /// The kept spectra (replaced).
    pub spectra: Vec<(usize, Vec<f64>)>,
    /// The latest metrics (replaced).
    pub current: Option<CollapseMetrics>,
    /// The latest error (replaced).
    pub error: Option<String>,
}

/// The coordinate-wise stepping state the Players view draws.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PlayersState {
    /// The run's generation.
    pub generation: u32,
    /// The moves made by the command, in order, each with its report or error.
    pub moves: Vec<(PlayerMove, Result<MoveReport, String>)>,
    /// The frozen α (2B × 2B), if a min-player step froze one.
    pub alpha: Option<ndarray::Array2<f32>>,
    /// Labels of the frozen batch's rows.
    pub labels: Vec<usize>,
    /// Max-player steps taken on this α.
    pub max_steps: usize,
    /// The frozen batch's embeddings z at the current θ (output stage, normalised like
    /// training).
    pub z: Option<ndarray::Array2<f32>>,
}

/// The report of one player move.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MoveReport {
    /// A min-player step.
    Min(MinReport),
    /// A max-player step.
    Max(MaxReport),
}

/// A message that could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed engine message: {0}")]
pub struct CodecError(pub String);

/// Encodes a message in the compact binary form.
pub fn encode<T: serde::Serialize>(msg: &T) -> Vec<u8> {
    // Every message type is plain data (no maps with non-string keys, no untagged enums), so
    // serialising into a growing buffer cannot fail.
    postcard::to_allocvec(msg).unwrap_or_default()
}

/// Decodes a message encoded by [`encode`].
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    postcard::from_bytes(bytes).map_err(|e| CodecError(e.to_string()))
}

/// FNV-1a of the bits of `z` (equal fingerprints ⇔ the same values, bit for bit).
pub fn fingerprint(z: &ndarray::Array2<f32>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in z {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
