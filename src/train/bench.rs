//! The standard benchmark workload (DESIGN.md), as a library function so the CLI and the web
//! page run exactly the same code.
//!
//! Workload: 2B = 512 rows of 768-d inputs (16×16×3; fixed random values, drawn once), encoder
//! `mlp:hidden=512,out=128` (ReLU), L2-normalised embeddings, Adam lr 1e-3, single thread.
//! One step = forward, loss (value, α, ∂L/∂z), backward, update. Input sampling and
//! augmentation are not part of the step.
//!
//! FLOP count per step (multiply-add = 2 FLOP), with N = 512 rows, d = 768, h = 512, o = 128:
//! encoder GEMMs 2N(dh + ho) forward + 2N(dh + 2ho) backward (no input gradient for the first
//! layer), plus the loss's two N×N×o products (Gram matrix and α·z): 4N²o.

use ndarray::Array2;
use web_time::Instant;

use crate::loss::{self, LossSpec};
use crate::nn::{EncoderSpec, OptimSpec, Optimizer};
use crate::rng::Rng;
use crate::spec::SpecError;

/// Result of one benchmark run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchResult {
    /// Loss spec text.
    pub loss: String,
    /// Timed steps.
    pub steps: usize,
    /// Steps per second.
    pub steps_per_sec: f64,
    /// Useful GFLOP per second (see the module docs for the count).
    pub gflops: f64,
    /// GFLOP per step.
    pub gflop_per_step: f64,
    /// Milliseconds per step spent in the encoder forward pass.
    pub ms_forward: f64,
    /// … in the loss (value, α, gradient w.r.t. the embeddings).
    pub ms_loss: f64,
    /// … in the encoder backward pass.
    pub ms_backward: f64,
    /// … in the optimiser update.
    pub ms_update: f64,
    /// Last loss value (a sanity check that the run stayed finite).
    pub last_loss: f64,
}

impl BenchResult {
    /// One line: speed, throughput and the per-phase split.
    pub fn summary(&self) -> String {
        format!(
            "{:<32} {:>7.1} steps/s {:>7.1} GFLOP/s  (fwd {:.2} ms, loss {:.2} ms, bwd {:.2} ms, update {:.2} ms)",
            self.loss,
            self.steps_per_sec,
            self.gflops,
            self.ms_forward,
            self.ms_loss,
            self.ms_backward,
            self.ms_update
        )
    }
}

/// Rows, input dimension, hidden width and output dimension of the standard workload.
pub const STANDARD_SHAPE: (usize, usize, usize, usize) = (512, 768, 512, 128);

/// GFLOP of one standard step (module docs).
pub fn standard_gflop_per_step() -> f64 {
    let (n, d, h, o) = STANDARD_SHAPE;
    let (n, d, h, o) = (n as f64, d as f64, h as f64, o as f64);
    (2.0 * n * (d * h + h * o) + 2.0 * n * (d * h + 2.0 * h * o) + 4.0 * n * n * o) / 1e9
}

/// Runs `warmup` untimed then `steps` timed steps of the standard workload with `loss_text`,
/// timed by the wall clock (`web-time`, so it works in the browser too).
pub fn standard_workload(
    loss_text: &str,
    warmup: usize,
    steps: usize,
) -> Result<BenchResult, SpecError> {
    let origin = Instant::now();
    standard_workload_with_clock(loss_text, warmup, steps, &|| origin.elapsed().as_secs_f64())
}

/// Time spent in each phase of one step, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepTimes {
    /// Encoder forward pass.
    pub forward: f64,
    /// Loss value, α and ∂L/∂z.
    pub loss: f64,
    /// Encoder backward pass.
    pub backward: f64,
    /// Optimiser update.
    pub update: f64,
}

impl StepTimes {
    /// The whole step.
    pub fn total(&self) -> f64 {
        self.forward + self.loss + self.backward + self.update
    }
}

/// The standard workload's state (inputs, encoder, optimiser), kept between steps so a caller
/// can time steps in slices (the web page does one slice per frame).
pub struct StandardWorkload {
    spec: LossSpec,
    x: Array2<f32>,
    enc: crate::nn::Encoder<f32>,
    opt: Optimizer,
    /// Loss value of the last step.
    pub last_loss: f64,
}

impl StandardWorkload {
    /// Builds the workload for `loss_text` (fixed inputs and initialisation).
    pub fn new(loss_text: &str) -> Result<Self, SpecError> {
        let spec = LossSpec::parse(loss_text)?;
        let (n, d, h, o) = STANDARD_SHAPE;
        let mut rng = Rng::derive(7, "bench");
        let x = Array2::from_shape_simple_fn((n, d), || rng.normal() as f32);
        let enc_spec = EncoderSpec::parse(&format!("mlp:hidden={h},out={o}"))?;
        let enc = enc_spec.build::<f32>(d, Some((3, 16, 16)), &mut rng)?;
        Ok(Self {
            spec,
            x,
            enc,
            opt: Optimizer::new(OptimSpec::adam(1e-3)),
            last_loss: f64::NAN,
        })
    }

    /// The loss spec in its canonical text form.
    pub fn loss_text(&self) -> String {
        self.spec.to_text()
    }

    /// One step, timed phase by phase with `clock` (seconds).
    pub fn step(&mut self, clock: &dyn Fn() -> f64) -> Result<StepTimes, SpecError> {
        let t0 = clock();
        let z = self.enc.forward_view(self.x.view());
        let t1 = clock();
        let out = loss::evaluate::<f32>(&self.spec, z, true)
            .map_err(|e| SpecError::new(e.to_string()))?;
        let t2 = clock();
        self.enc.backward(&out.grad);
        let t3 = clock();
        self.opt.step(self.enc.params_and_grads());
        let t4 = clock();
        self.last_loss = f64::from(out.loss);
        Ok(StepTimes {
            forward: t1 - t0,
            loss: t2 - t1,
            backward: t3 - t2,
            update: t4 - t3,
        })
    }
}

/// As [`standard_workload`] with a caller-supplied clock in seconds (the native CLI passes the
/// thread's CPU time so that a busy machine does not distort the figures).
pub fn standard_workload_with_clock(
    loss_text: &str,
    warmup: usize,
    steps: usize,
    clock: &dyn Fn() -> f64,
) -> Result<BenchResult, SpecError> {
    let mut w = StandardWorkload::new(loss_text)?;
    for _ in 0..warmup {
        w.step(clock)?;
    }
    let mut sum = StepTimes::default();
    let start = clock();
    for _ in 0..steps {
        let t = w.step(clock)?;
        sum.forward += t.forward;
        sum.loss += t.loss;
        sum.backward += t.backward;
        sum.update += t.update;
    }
    let secs = (clock() - start).max(1e-12);
    let k = steps.max(1) as f64;
    let gflop = standard_gflop_per_step();
    Ok(BenchResult {
        loss: w.loss_text(),
        steps,
        steps_per_sec: steps as f64 / secs,
        gflops: gflop * steps as f64 / secs,
        gflop_per_step: gflop,
        ms_forward: sum.forward * 1e3 / k,
        ms_loss: sum.loss * 1e3 / k,
        ms_backward: sum.backward * 1e3 / k,
        ms_update: sum.update * 1e3 / k,
        last_loss: w.last_loss,
    })
}

/// The two losses of the standard workload.
pub const STANDARD_LOSSES: &[&str] = &["nt-xent:tau=0.5", "acl-direct:tau=0.5,p=4,eps=0"];

/// The recommended CIFAR-10 preset (`examples/cifar10-16px.txt`, the run text form): the
/// one file behind the tour's real-image step, the README's CLI example and the `cifar`
/// benchmark workload.
pub const CIFAR_PRESET: &str = include_str!("../../examples/cifar10-16px.txt");

/// [`CIFAR_PRESET`] parsed.
pub fn cifar_preset() -> Result<crate::train::RunConfig, SpecError> {
    crate::train::RunConfig::parse(CIFAR_PRESET.trim())
}
