//! Multi-seed summaries of the theory experiments (what `alphacl theory … --json` prints).

use super::deep_linear::{DeepLinear, DeepLinearConfig};
use super::relu2::{Relu2, Relu2Config};
use super::{TheoryError, mean};

/// Relative tolerance for "reached the global optimum": |½λ_max − E| / ½λ_max < 1e-3.
pub const GLOBAL_TOL: f64 = 1e-3;
/// "Rank one": effective rank below 1 + this.
pub const RANK_ONE_TOL: f64 = 1e-2;

/// One seed of the deep linear experiment.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeepLinearSeed {
    /// The seed.
    pub seed: u64,
    /// Steps taken (stops early once converged).
    pub steps: usize,
    /// Final E_α.
    pub energy: f64,
    /// ½ λ_max(C_α[x]).
    pub half_lambda_max: f64,
    /// energy / half_lambda_max.
    pub energy_ratio: f64,
    /// Within [`GLOBAL_TOL`] of the global optimum.
    pub reached_global: bool,
    /// Effective rank of the end-to-end map.
    pub effective_rank: f64,
    /// Effective rank of each layer.
    pub layer_effective_ranks: Vec<f64>,
    /// |cos| between the learned direction and the top eigenvector of C_α[x].
    pub abs_cos_top_eig: f64,
    /// |cos| between the learned direction and the top principal axis of x.
    pub abs_cos_pca: f64,
}

/// Summary over seeds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeepLinearSummary {
    /// Number of seeds.
    pub seeds: usize,
    /// Share of seeds within 1e-3 relative of ½ λ_max.
    pub fraction_global: f64,
    /// Share of seeds whose end-to-end map has effective rank < 1.01.
    pub fraction_rank_one: f64,
    /// Mean final E/(½λ_max).
    pub mean_energy_ratio: f64,
    /// Mean effective rank of the end-to-end map.
    pub mean_effective_rank: f64,
    /// Mean |cos| to the top eigenvector of C_α[x].
    pub mean_abs_cos_top_eig: f64,
    /// Mean |cos| to the top principal axis of x (for contrast).
    pub mean_abs_cos_pca: f64,
    /// Mean steps taken.
    pub mean_steps: f64,
}

/// The full report of `alphacl theory deep-linear`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeepLinearReport {
    /// The settings (seed field = first seed).
    pub config: DeepLinearConfig,
    /// Step budget per seed.
    pub max_steps: usize,
    /// Per-seed results.
    pub seeds: Vec<DeepLinearSeed>,
    /// Summary.
    pub summary: DeepLinearSummary,
}

/// The seed count both reports accept.
fn check_seeds(seeds: usize) -> Result<(), TheoryError> {
    if (1..=1000).contains(&seeds) {
        Ok(())
    } else {
        Err(TheoryError::Config(format!(
            "seeds must be 1 to 1000, got {seeds}"
        )))
    }
}

/// Runs the deep linear experiment for seeds `config.seed .. config.seed + seeds`.
pub fn deep_linear_seeds(
    config: &DeepLinearConfig,
    seeds: usize,
    max_steps: usize,
) -> Result<DeepLinearReport, TheoryError> {
    check_seeds(seeds)?;
    let mut out = Vec::with_capacity(seeds);
    for s in 0..seeds as u64 {
        let seed = config.seed + s;
        let mut e = DeepLinear::new(DeepLinearConfig {
            seed,
            ..config.clone()
        })?;
        e.run_to_convergence(GLOBAL_TOL * 1e-2, RANK_ONE_TOL * 1e-2, max_steps);
        let r = e.readout();
        out.push(DeepLinearSeed {
            seed,
            steps: r.steps,
            energy: r.energy,
            half_lambda_max: r.half_lambda_max,
            energy_ratio: r.energy_ratio,
            reached_global: (r.half_lambda_max - r.energy).abs() / r.half_lambda_max.abs()
                < GLOBAL_TOL,
            effective_rank: r.effective_rank,
            layer_effective_ranks: r.layer_effective_ranks,
            abs_cos_top_eig: r.abs_cos_top_eig,
            abs_cos_pca: r.abs_cos_pca,
        });
    }
    let col = |f: &dyn Fn(&DeepLinearSeed) -> f64| mean(&out.iter().map(f).collect::<Vec<_>>());
    let summary = DeepLinearSummary {
        seeds,
        fraction_global: col(&|s| f64::from(u8::from(s.reached_global))),
        fraction_rank_one: col(&|s| f64::from(u8::from(s.effective_rank < 1.0 + RANK_ONE_TOL))),
        mean_energy_ratio: col(&|s| s.energy_ratio),
        mean_effective_rank: col(&|s| s.effective_rank),
        mean_abs_cos_top_eig: col(&|s| s.abs_cos_top_eig),
        mean_abs_cos_pca: col(&|s| s.abs_cos_pca),
        mean_steps: col(&|s| s.steps as f64),
    };
    Ok(DeepLinearReport {
        config: config.clone(),
        max_steps,
        seeds: out,
        summary,
    })
}

/// One seed of the 2-layer experiment: the ReLU and the linear network on the same data.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Relu2Seed {
    /// The seed.
    pub seed: u64,
    /// Effective rank of W₁ with ReLU.
    pub effective_rank_relu: f64,
    /// Effective rank of W₁ with the identity activation.
    pub effective_rank_linear: f64,
    /// Singular values of W₁ with ReLU.
    pub singular_values_relu: Vec<f64>,
    /// Singular values of W₁ for the linear network.
    pub singular_values_linear: Vec<f64>,
    /// Final E_α with ReLU.
    pub energy_relu: f64,
    /// Final E_α of the linear network.
    pub energy_linear: f64,
}

/// Summary over seeds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Relu2Summary {
    /// Number of seeds.
    pub seeds: usize,
    /// Mean effective rank of W₁ with ReLU.
    pub mean_effective_rank_relu: f64,
    /// Mean effective rank of W₁ for the linear network.
    pub mean_effective_rank_linear: f64,
    /// Share of seeds where the ReLU W₁ has effective rank > 1.5.
    pub fraction_relu_above_1_5: f64,
    /// Share of seeds where the linear W₁ has effective rank < 1.01.
    pub fraction_linear_rank_one: f64,
}

/// The full report of `alphacl theory relu2`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Relu2Report {
    /// The settings (seed = first seed; `relu` is varied per run).
    pub config: Relu2Config,
    /// Steps per run.
    pub steps: usize,
    /// Per-seed results.
    pub seeds: Vec<Relu2Seed>,
    /// Summary.
    pub summary: Relu2Summary,
}

/// Runs the ReLU and the linear network for seeds `config.seed .. config.seed + seeds`.
pub fn relu2_seeds(
    config: &Relu2Config,
    seeds: usize,
    steps: usize,
) -> Result<Relu2Report, TheoryError> {
    check_seeds(seeds)?;
    let mut out = Vec::with_capacity(seeds);
    for s in 0..seeds as u64 {
        let seed = config.seed + s;
        let run = |relu: bool| -> Result<_, TheoryError> {
            let mut e = Relu2::new(Relu2Config {
                seed,
                relu,
                ..config.clone()
            })?;
            e.step(steps);
            Ok(e.readout())
        };
        let r = run(true)?;
        let l = run(false)?;
        out.push(Relu2Seed {
            seed,
            effective_rank_relu: r.w1_effective_rank,
            effective_rank_linear: l.w1_effective_rank,
            singular_values_relu: r.w1_singular_values,
            singular_values_linear: l.w1_singular_values,
            energy_relu: r.energy,
            energy_linear: l.energy,
        });
    }
    let col = |f: &dyn Fn(&Relu2Seed) -> f64| mean(&out.iter().map(f).collect::<Vec<_>>());
    let summary = Relu2Summary {
        seeds,
        mean_effective_rank_relu: col(&|s| s.effective_rank_relu),
        mean_effective_rank_linear: col(&|s| s.effective_rank_linear),
        fraction_relu_above_1_5: col(&|s| f64::from(u8::from(s.effective_rank_relu > 1.5))),
        fraction_linear_rank_one: col(&|s| {
            f64::from(u8::from(s.effective_rank_linear < 1.0 + RANK_ONE_TOL))
        }),
    };
    Ok(Relu2Report {
        config: config.clone(),
        steps,
        seeds: out,
        summary,
    })
}
