//! Coordinate-wise stepping: the two players of α-CL, one at a time (PAPER §4).
//!
//! - **Min player** ([`Players::min_step`]): draw a batch from the trainer's stream, encode it
//!   with the current θ and compute α (and β_i = Σ_j α_ij) from the loss spec; α is then frozen.
//! - **Max player** ([`Players::max_step`]): one θ update on the same batch with α frozen:
//!   ∂L/∂z = −(1/2B)·∂E_α/∂z ([`crate::loss::energy_grad`]), back through the normalisation and
//!   the encoder, then one optimiser step. Gradient descent on −E_α/2B is ascent on E_α.
//!
//! The frozen batch and α live in [`Players`], next to the [`Trainer`]; a max step counts as a
//! training step in the trainer's history. Its loss entry is the run's loss (the loss spec's
//! value on the frozen batch at θ before the update: the quantity an ordinary step records),
//! so the loss series holds one quantity; E_α is reported apart, in [`MaxReport`].

use ndarray::{Array1, Array2};
use web_time::Instant;

use super::trainer::{TrainError, Trainer};
use crate::loss::{self, Geometry};

/// The batch and α frozen by the last min-player step.
#[derive(Debug, Clone)]
pub struct FrozenBatch {
    /// The 2B input rows (rows k and k + B are the two views of sample k).
    pub x: Array2<f32>,
    /// Their labels (for colouring only).
    pub labels: Vec<usize>,
    /// α computed by the min player (2B × 2B), held fixed by the max player.
    pub alpha: Array2<f32>,
    /// β_i = Σ_j α_ij.
    pub beta: Array1<f32>,
    /// Max-player steps taken on this frozen α so far.
    pub max_steps: usize,
}

/// Which player moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PlayerMove {
    /// α recomputed on a new batch.
    Min,
    /// θ step with α frozen.
    Max,
}

/// Result of a min-player step.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MinReport {
    /// E_α of the batch at the current θ with the new α (f64).
    pub energy: f64,
    /// The loss value of the spec on this batch.
    pub loss: f32,
}

/// Result of a max-player step.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MaxReport {
    /// Trainer step number after the update.
    pub step: usize,
    /// The run's loss on the frozen batch before the update (what the history records).
    pub loss: f32,
    /// E_α on the frozen batch before the θ update.
    pub energy_before: f64,
    /// E_α on the frozen batch after the θ update (same α).
    pub energy_after: f64,
}

/// State of coordinate-wise stepping (kept next to a [`Trainer`]).
#[derive(Debug, Clone, Default)]
pub struct Players {
    frozen: Option<FrozenBatch>,
}

impl Players {
    /// No batch frozen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The batch and α of the last min-player step, if any.
    pub fn frozen(&self) -> Option<&FrozenBatch> {
        self.frozen.as_ref()
    }

    /// E_α (f64) of the frozen batch with the frozen α at the trainer's current θ.
    pub fn frozen_energy(&self, t: &Trainer) -> Option<f64> {
        let f = self.frozen.as_ref()?;
        energy_at(t, &f.x, &f.alpha).ok()
    }

    /// Min player: draws a batch, computes α on the current encoder and freezes both.
    pub fn min_step(&mut self, t: &mut Trainer) -> Result<MinReport, TrainError> {
        if let Some(f) = &t.failure {
            return Err(f.clone());
        }
        let (x, labels) = t.make_batch();
        let z = t.encoder.embed(&x);
        let out =
            loss::evaluate::<f32>(&t.config.loss, z.view(), t.config.normalize).map_err(|e| {
                TrainError::Diverged {
                    step: t.step_count(),
                    what: format!("the min player's α ({e})"),
                }
            })?;
        let energy = energy_at(t, &x, &out.alpha)?;
        self.frozen = Some(FrozenBatch {
            x,
            labels,
            alpha: out.alpha,
            beta: out.beta,
            max_steps: 0,
        });
        Ok(MinReport {
            energy,
            loss: out.loss,
        })
    }

    /// Max player: one θ update on the frozen batch with α frozen (E_α ascent).
    pub fn max_step(&mut self, t: &mut Trainer) -> Result<MaxReport, TrainError> {
        if let Some(f) = &t.failure {
            return Err(f.clone());
        }
        let Some(frozen) = self.frozen.as_mut() else {
            return Err(TrainError::Config(
                "no frozen α yet: take a min-player step first".into(),
            ));
        };
        let start = Instant::now();
        let step = t.step + 1;
        let energy_before = energy_at(t, &frozen.x, &frozen.alpha)?;
        let z = t.encoder.forward(&frozen.x);
        let geom = match Geometry::new(z.view(), t.config.normalize) {
            Ok(g) => g,
            Err(e) => return Err(t.fail(step, e.to_string())),
        };
        // The run's loss at this θ on this batch, as an ordinary step records it.
        let (loss_value, _) = loss::alpha_and_loss(&t.config.loss, &geom);
        if !loss_value.is_finite() {
            return Err(t.fail(
                step,
                format!("the {} loss value", t.config.loss.info().name),
            ));
        }
        let mut grad_z = loss::energy_grad(frozen.alpha.view(), frozen.beta.view(), geom.z.view());
        let scale = -1.0 / geom.rows() as f32;
        grad_z.mapv_inplace(|g| g * scale);
        let grad = geom.backward_to_raw(&grad_z);
        t.encoder.backward(&grad);
        if !t.encoder.grad_norm_sq().is_finite() {
            return Err(t.fail(step, "the parameter gradient".into()));
        }
        t.optim.step(t.encoder.params_and_grads());
        t.encoder.apply_constraint();
        frozen.max_steps += 1;
        let energy_after = energy_at(t, &frozen.x, &frozen.alpha)?;
        t.step = step;
        t.last_alpha = frozen.alpha.clone();
        t.last_batch_labels = frozen.labels.clone();
        t.train_seconds += start.elapsed().as_secs_f64();
        t.history.loss.push(loss_value);
        t.history.time.push(t.train_seconds as f32);
        if step.is_multiple_of(t.config.eval_every) {
            t.refresh_snapshot();
        }
        Ok(MaxReport {
            step,
            loss: loss_value,
            energy_before,
            energy_after,
        })
    }
}

impl Trainer {
    /// Min-player step with the frozen state kept in `players` (see [`Players::min_step`]).
    pub fn min_player_step(&mut self, players: &mut Players) -> Result<MinReport, TrainError> {
        players.min_step(self)
    }

    /// Max-player step on the batch and α frozen in `players` (see [`Players::max_step`]).
    pub fn max_player_step(&mut self, players: &mut Players) -> Result<MaxReport, TrainError> {
        players.max_step(self)
    }
}

/// E_α of the rows `x` at the trainer's θ with a given α, in f64.
fn energy_at(t: &Trainer, x: &Array2<f32>, alpha: &Array2<f32>) -> Result<f64, TrainError> {
    let z = t.encoder.embed(x).mapv(f64::from);
    let geom = Geometry::new(z.view(), t.config.normalize).map_err(|e| TrainError::Diverged {
        step: t.step_count(),
        what: format!("the embeddings ({e})"),
    })?;
    Ok(loss::energy(&geom, alpha.mapv(f64::from).view()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::RunConfig;

    fn trainer(loss: &str, optim: &str) -> Trainer {
        let text = format!(
            "data=gauss:k=4,d=8,n=256&encoder=mlp:hidden=32,out=8&loss={loss}&optim={optim}&batch=16&seed=3&eval=1000"
        );
        Trainer::new(RunConfig::parse(&text).unwrap()).unwrap()
    }

    /// Issue 17 item 1: a max-player step records the run's loss (the spec's value on the
    /// frozen batch before the update, what an ordinary step records), never −E_α/2B.
    #[test]
    fn max_steps_record_the_runs_loss_not_the_energy() {
        let mut t = trainer("nt-xent:tau=0.5", "sgd:lr=0.05");
        for _ in 0..3 {
            t.step().unwrap();
        }
        let mut p = Players::new();
        p.min_step(&mut t).unwrap();
        let x = p.frozen().unwrap().x.clone();
        for k in 0..12 {
            // The MLP has no batch statistics: embed = the training forward pass.
            let z = t.encoder.embed(&x);
            let expected = loss::evaluate::<f32>(&t.config.loss, z.view(), t.config.normalize)
                .unwrap()
                .loss;
            let r = p.max_step(&mut t).unwrap();
            let recorded = *t.history.loss.last().unwrap();
            assert!(
                (recorded - expected).abs() <= 1e-5 * (1.0 + expected.abs()),
                "max step {k}: recorded {recorded}, the loss is {expected} (−E_α/2B = {})",
                -r.energy_before / x.nrows() as f64
            );
            assert!((r.loss - expected).abs() <= 1e-5 * (1.0 + expected.abs()));
        }
        // NT-Xent is positive; the series never switches to the (negative) −E_α/2B.
        assert_eq!(t.history.loss.len(), 15);
        assert!(
            t.history.loss.iter().all(|&l| l > 0.0),
            "{:?}",
            t.history.loss
        );
        assert_eq!(t.history.time.len(), 15);
    }

    #[test]
    fn max_step_keeps_alpha_frozen_and_increases_the_energy() {
        for loss in ["infonce:tau=0.5,eps=1", "acl-direct:tau=0.5,p=4,eps=0"] {
            let mut t = trainer(loss, "sgd:lr=0.05");
            let mut p = Players::new();
            assert!(p.max_step(&mut t).is_err(), "a max step needs a frozen α");
            let min = p.min_step(&mut t).unwrap();
            let alpha0 = p.frozen().unwrap().alpha.clone();
            let e0 = p.frozen_energy(&t).unwrap();
            assert!((e0 - min.energy).abs() < 1e-9 * (1.0 + e0.abs()));
            let max = p.max_step(&mut t).unwrap();
            // α is exactly what the min player computed…
            assert_eq!(p.frozen().unwrap().alpha, alpha0, "{loss}");
            // …and E_α (α frozen) went up on that batch.
            assert!(max.energy_after > max.energy_before, "{loss}: {max:?}");
            assert!((max.energy_before - e0).abs() < 1e-9 * (1.0 + e0.abs()));
            // Recomputing α on the new θ would give a different α: it really was frozen.
            let z = t.encoder.embed(&p.frozen().unwrap().x);
            let fresh =
                loss::evaluate::<f32>(&t.config.loss, z.view(), t.config.normalize).unwrap();
            assert!(fresh.alpha != alpha0, "{loss}");
            assert_eq!(t.step_count(), 1);
            assert_eq!(t.history.loss.len(), 1);
            // The Trainer wrappers drive the same state: a second round also ascends.
            t.min_player_step(&mut p).unwrap();
            let again = t.max_player_step(&mut p).unwrap();
            assert!(
                again.energy_after > again.energy_before,
                "{loss}: {again:?}"
            );
            assert_eq!(t.step_count(), 2);
        }
    }
}
