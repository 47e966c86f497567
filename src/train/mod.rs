//! Runs: the reproducible [`RunConfig`], the [`Trainer`] that steps it, and its [`History`].

pub mod bench;
pub mod budget;
pub mod config;
pub mod history;
pub mod players;
pub mod probe;
pub mod trainer;
pub mod whole_set;

pub use budget::{Budget, MemoryEstimate, OverBudget, check_budget, check_budget_for};
pub use config::RunConfig;
pub use history::{EvalPoint, History};
pub use trainer::{
    EvalProtocol, InputBaselines, PhaseTimes, Snapshot, StepReport, TrainError, Trainer,
};
