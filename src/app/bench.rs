//! The standard benchmark workload run inside the page (`#bench=standard`), in slices of a few
//! steps per frame so the page keeps drawing; results go to `#alphacl-status` under `bench`.
//!
//! The workload (inputs, encoder, optimiser) persists across slices, as it does in the CLI's
//! single run: [`WARMUP`] untimed steps, then only the steps themselves are timed (the frames
//! drawn in between are not).

use web_time::Instant;

use crate::train::bench::{STANDARD_LOSSES, StandardWorkload, standard_gflop_per_step};

/// Untimed steps before timing starts (lets the engine compile the hot code).
const WARMUP: usize = 3;

/// Timed steps per loss.
const STEPS_PER_LOSS: usize = 60;
/// Timed steps per frame slice.
const STEPS_PER_SLICE: usize = 6;

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
    /// Milliseconds per timed step in the encoder forward pass.
    pub ms_forward: f64,
    /// … in the loss (value, α, ∂L/∂z).
    pub ms_loss: f64,
    /// … in the encoder backward pass.
    pub ms_backward: f64,
    /// … in the optimiser update.
    pub ms_update: f64,
    /// Seconds per phase, summed over the timed steps (forward, loss, backward, update).
    #[serde(skip)]
    phase_seconds: [f64; 4],
}

/// In-page benchmark state.
#[derive(Default)]
pub struct BenchRunner {
    /// One entry per standard loss.
    pub figures: Vec<BenchFigures>,
    /// Error, if the workload could not run.
    pub error: Option<String>,
    /// The running workload: (index into `figures`, state, warm-up steps done).
    current: Option<(usize, StandardWorkload, usize)>,
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
            current: None,
        }
    }

    /// Whether all losses have their steps.
    pub fn done(&self) -> bool {
        self.error.is_some() || self.figures.iter().all(|f| f.steps >= STEPS_PER_LOSS)
    }

    /// Runs one slice: a few steps of the next unfinished loss (warm-up steps first).
    pub fn slice(&mut self) {
        let Some(i) = self.figures.iter().position(|f| f.steps < STEPS_PER_LOSS) else {
            return;
        };
        if self.current.as_ref().is_none_or(|c| c.0 != i) {
            match StandardWorkload::new(&self.figures[i].loss) {
                Ok(w) => self.current = Some((i, w, 0)),
                Err(e) => {
                    self.error = Some(e.to_string());
                    return;
                }
            }
        }
        let Some((_, w, warm)) = self.current.as_mut() else {
            return;
        };
        let origin = Instant::now();
        let clock = || origin.elapsed().as_secs_f64();
        let f = &mut self.figures[i];
        for _ in 0..STEPS_PER_SLICE {
            match w.step(&clock) {
                Ok(t) if *warm >= WARMUP => {
                    f.steps += 1;
                    f.seconds += t.total();
                    for (acc, v) in f
                        .phase_seconds
                        .iter_mut()
                        .zip([t.forward, t.loss, t.backward, t.update])
                    {
                        *acc += v;
                    }
                }
                Ok(_) => *warm += 1,
                Err(e) => {
                    self.error = Some(e.to_string());
                    return;
                }
            }
            if f.steps >= STEPS_PER_LOSS {
                break;
            }
        }
        if f.seconds > 0.0 {
            f.steps_per_sec = f.steps as f64 / f.seconds;
            f.gflops = f.steps_per_sec * standard_gflop_per_step();
            let per_step_ms = |k: usize| f.phase_seconds[k] * 1e3 / f.steps as f64;
            f.ms_forward = per_step_ms(0);
            f.ms_loss = per_step_ms(1);
            f.ms_backward = per_step_ms(2);
            f.ms_update = per_step_ms(3);
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
