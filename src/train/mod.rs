//! Runs: the reproducible [`RunConfig`], the [`Trainer`] that steps it, and its [`History`].

pub mod bench;
pub mod config;
pub mod history;
pub mod players;
pub mod probe;
pub mod trainer;

pub use config::RunConfig;
pub use history::{EvalPoint, History};
pub use trainer::{
    EvalProtocol, InputBaselines, PhaseTimes, Snapshot, StepReport, TrainError, Trainer,
};
