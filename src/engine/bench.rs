//! Benchmarks run by a run's engine (in its Web Worker, or in the page's frames when workers
//! are unavailable), in slices so commands and drawing go on; results go to
//! `#alphacl-status` under `bench`:
//! - `#bench=standard`: the standard workload, a few steps per frame;
//! - `#bench=cifar`: real steps of the CIFAR preset (`examples/cifar10-16px.txt`, augmentation
//!   included) on the prepared data, one step per frame, with the per-phase and per-layer
//!   split of `alphacl bench --workload cifar`.
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
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
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
    #[serde(default)]
    phase_seconds: [f64; 4],
}

/// Which in-page benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum BenchKind {
    /// The standard workload (both standard losses).
    #[default]
    Standard,
    /// The CIFAR preset's own trainer.
    Cifar,
}

/// Timed steps of the CIFAR preset.
const CIFAR_STEPS: usize = 20;

/// In-page benchmark state (its figures travel from the worker to the page; the running
/// workload stays in the engine).
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct BenchRunner {
    /// Which benchmark.
    pub kind: BenchKind,
    /// CIFAR only: untimed steps done, and the per-layer (name, forward ms, backward ms) and
    /// augmentation ms per step once measured.
    cifar_warm: usize,
    cifar_layers: Vec<(String, f64, f64)>,
    cifar_ms_augment: f64,
    /// One entry per standard loss.
    pub figures: Vec<BenchFigures>,
    /// Error, if the workload could not run.
    pub error: Option<String>,
    /// The running workload: (index into `figures`, state, warm-up steps done).
    #[serde(skip)]
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
            ..Default::default()
        }
    }

    /// A runner for the CIFAR preset (its figures fill in once its trainer runs).
    pub fn cifar() -> Self {
        let loss = crate::train::bench::cifar_preset()
            .map(|c| c.loss.to_text())
            .unwrap_or_default();
        Self {
            kind: BenchKind::Cifar,
            figures: vec![BenchFigures {
                loss,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// What is benchmarked, for the page.
    pub fn title(&self) -> &'static str {
        match self.kind {
            BenchKind::Standard => "standard workload (MLP 768→512→128, 2B = 512, Adam)",
            BenchKind::Cifar => {
                "CIFAR preset (BatchNorm conv net, 16 px, 2B = 512, augmentation included)"
            }
        }
    }

    /// CIFAR: one step of the preset's trainer ([`WARMUP`] untimed first), timed by the
    /// trainer's own phase profile.
    pub fn step_trainer(&mut self, t: &mut crate::train::Trainer) {
        if self.done() {
            return;
        }
        if self.cifar_warm == WARMUP {
            t.set_profiling(true);
            self.cifar_warm += 1;
        }
        if let Err(e) = t.step() {
            self.error = Some(e.to_string());
            return;
        }
        if self.cifar_warm < WARMUP {
            self.cifar_warm += 1;
            return;
        }
        let Some(p) = t.phase_times() else {
            return;
        };
        let k = p.steps.max(1) as f64;
        let ms = |s: f64| s * 1e3 / k;
        let f = &mut self.figures[0];
        f.steps = p.steps;
        f.seconds = p.batch + p.forward + p.loss + p.backward + p.update;
        f.steps_per_sec = p.steps as f64 / f.seconds.max(1e-12);
        f.ms_forward = ms(p.forward);
        f.ms_loss = ms(p.loss);
        f.ms_backward = ms(p.backward);
        f.ms_update = ms(p.update);
        self.cifar_ms_augment = ms(p.batch);
        self.cifar_layers = t
            .encoder
            .layer_profile()
            .into_iter()
            .map(|(n, fw, bw)| (n, ms(fw), ms(bw)))
            .collect();
        if f.steps >= CIFAR_STEPS {
            t.set_profiling(false);
        }
    }

    /// The figures so far, without the running workload (what the page is sent).
    pub fn report(&self) -> Self {
        Self {
            kind: self.kind,
            cifar_warm: self.cifar_warm,
            cifar_layers: self.cifar_layers.clone(),
            cifar_ms_augment: self.cifar_ms_augment,
            figures: self.figures.clone(),
            error: self.error.clone(),
            current: None,
        }
    }

    /// Whether all losses have their steps.
    pub fn done(&self) -> bool {
        let steps = match self.kind {
            BenchKind::Standard => STEPS_PER_LOSS,
            BenchKind::Cifar => CIFAR_STEPS,
        };
        self.error.is_some() || self.figures.iter().all(|f| f.steps >= steps)
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
        match self.kind {
            BenchKind::Standard => serde_json::json!({
                "workload": "standard",
                "done": self.done(),
                "results": self.figures,
                "error": self.error,
            }),
            BenchKind::Cifar => serde_json::json!({
                "workload": "cifar",
                "done": self.done(),
                "results": self.figures,
                "ms_augment": self.cifar_ms_augment,
                "layers": self
                    .cifar_layers
                    .iter()
                    .map(|(n, f, b)| serde_json::json!({"layer": n, "ms_forward": f, "ms_backward": b}))
                    .collect::<Vec<_>>(),
                "error": self.error,
            }),
        }
    }
}
