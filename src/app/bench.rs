//! The standard benchmark workload run inside the page (`#bench=standard`), in slices of a few
//! steps per frame so the page keeps drawing; results go to `#alphacl-status` under `bench`.

use crate::train::bench::{STANDARD_LOSSES, standard_workload};

/// Timed steps per loss.
const STEPS_PER_LOSS: usize = 40;
/// Timed steps per frame slice.
const STEPS_PER_SLICE: usize = 4;

/// Accumulated figures of one loss.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BenchFigures {
    /// Loss spec.
    pub loss: String,
    /// Timed steps so far.
    pub steps: usize,
    /// Timed seconds so far.
    pub seconds: f64,
    /// Steps per second.
    pub steps_per_sec: f64,
    /// GFLOP/s.
    pub gflops: f64,
}

/// In-page benchmark state.
#[derive(Debug, Clone, Default)]
pub struct BenchRunner {
    /// One entry per standard loss.
    pub figures: Vec<BenchFigures>,
    /// Error, if the workload could not run.
    pub error: Option<String>,
}

impl BenchRunner {
    /// A runner for the standard losses.
    pub fn standard() -> Self {
        Self {
            figures: STANDARD_LOSSES
                .iter()
                .map(|l| BenchFigures {
                    loss: (*l).to_string(),
                    ..Default::default()
                })
                .collect(),
            error: None,
        }
    }

    /// Whether all losses have their steps.
    pub fn done(&self) -> bool {
        self.error.is_some() || self.figures.iter().all(|f| f.steps >= STEPS_PER_LOSS)
    }

    /// Runs one slice (one warm-up step and a few timed steps of the next unfinished loss).
    pub fn slice(&mut self) {
        let Some(f) = self.figures.iter_mut().find(|f| f.steps < STEPS_PER_LOSS) else {
            return;
        };
        match standard_workload(&f.loss, 1, STEPS_PER_SLICE) {
            Ok(r) => {
                f.steps += r.steps;
                f.seconds += r.steps as f64 / r.steps_per_sec.max(1e-12);
                f.steps_per_sec = f.steps as f64 / f.seconds.max(1e-12);
                f.gflops = f.steps_per_sec * r.gflop_per_step;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// JSON for the status element.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "workload": "standard",
            "done": self.done(),
            "results": self.figures,
            "error": self.error,
        })
    }
}
