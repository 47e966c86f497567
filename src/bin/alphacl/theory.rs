//! `alphacl theory`: the paper's max-player experiments over many seeds.
//!
//! - `alphacl theory deep-linear [--seeds 20] [--first-seed 0] [--max-steps 3000] [--lr 0.05] [--json]`
//!   (PAPER §5.2): fraction of seeds reaching ½ λ_max(C_α[x]), energy ratio, effective rank of
//!   the end-to-end map, |cos| to the top eigenvector of C_α[x] (and to plain PCA of x).
//! - `alphacl theory relu2 [--seeds 20] [--steps 3000] [--norm row|frobenius]
//!   [--alpha uniform|infonce] [--tau 0.1] [--json]` (PAPER §5.3): effective rank of W₁ for the
//!   ReLU and the linear network.
//!
//! With `--json` one JSON object is printed (`seeds` array and `summary`); otherwise a table.

use alphacl::theory::deep_linear::DeepLinearConfig;
use alphacl::theory::relu2::{AlphaRule, Normalization, Relu2Config};
use alphacl::theory::report::{deep_linear_seeds, relu2_seeds};
use anyhow::{Result, bail};

/// Arguments of `alphacl theory`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    exp: Experiment,
}

#[derive(clap::Subcommand)]
enum Experiment {
    /// Deep linear network, α fixed, per-layer unit Frobenius norm (PAPER §5.2).
    DeepLinear {
        /// Number of seeds.
        #[arg(long, default_value_t = 20)]
        seeds: usize,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Step budget per seed (each seed stops early once converged).
        #[arg(long, default_value_t = 3000)]
        max_steps: usize,
        /// Step size on the raw gradient of E_α.
        #[arg(long, default_value_t = 0.05)]
        lr: f64,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Two-layer network z = W₂σ(W₁x), ReLU versus linear (PAPER §5.3).
    Relu2 {
        /// Number of seeds.
        #[arg(long, default_value_t = 20)]
        seeds: usize,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Steps per run.
        #[arg(long, default_value_t = 3000)]
        steps: usize,
        /// Step size η (on grad/N).
        #[arg(long, default_value_t = 0.02)]
        lr: f64,
        /// Normalisation of W₁: `row` (each hidden unit unit-norm) or `frobenius` (whole layer).
        #[arg(long, default_value = "row")]
        norm: String,
        /// α: `uniform` (fixed) or `infonce` (softmax(−d²/τ) on normalised z, per step).
        #[arg(long, default_value = "uniform")]
        alpha: String,
        /// τ of the InfoNCE α.
        #[arg(long, default_value_t = 0.1)]
        tau: f64,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// The largest learning rate the experiments accept: beyond it the first step overflows the
/// weights and every readout (effective rank, rank-one fraction) would be meaningless.
const MAX_LR: f64 = 100.0;

fn check_lr(lr: f64) -> Result<()> {
    if !(lr.is_finite() && lr > 0.0 && lr <= MAX_LR) {
        anyhow::bail!(
            "--lr must be > 0 and <= {MAX_LR} (larger steps overflow the weights), got {lr}"
        );
    }
    Ok(())
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    match &args.exp {
        Experiment::DeepLinear { lr, .. } | Experiment::Relu2 { lr, .. } => check_lr(*lr)?,
    }
    match args.exp {
        Experiment::DeepLinear {
            seeds,
            first_seed,
            max_steps,
            lr,
            json,
        } => {
            let cfg = DeepLinearConfig {
                seed: first_seed,
                lr,
                ..DeepLinearConfig::default()
            };
            let rep = deep_linear_seeds(&cfg, seeds, max_steps)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rep)?);
                return Ok(());
            }
            println!("deep linear network (PAPER §5.2): d=8, N=64 pairs, widths 8→6→6→6, lr {lr}");
            println!(
                "{:>5} {:>6} {:>12} {:>12} {:>9} {:>7} {:>8} {:>9} {:>8}",
                "seed",
                "steps",
                "E",
                "½λmax",
                "E/½λmax",
                "global",
                "erank",
                "|cos eig|",
                "|cos pca|"
            );
            for s in &rep.seeds {
                println!(
                    "{:>5} {:>6} {:>12.4} {:>12.4} {:>9.6} {:>7} {:>8.4} {:>9.4} {:>8.4}",
                    s.seed,
                    s.steps,
                    s.energy,
                    s.half_lambda_max,
                    s.energy_ratio,
                    if s.reached_global { "yes" } else { "no" },
                    s.effective_rank,
                    s.abs_cos_top_eig,
                    s.abs_cos_pca
                );
            }
            let m = &rep.summary;
            println!(
                "summary: fraction_global {:.3}, fraction_rank_one {:.3}, mean E/½λmax {:.6}, mean erank {:.4}, mean |cos| to top eig of C_α {:.4} (to PCA {:.4})",
                m.fraction_global,
                m.fraction_rank_one,
                m.mean_energy_ratio,
                m.mean_effective_rank,
                m.mean_abs_cos_top_eig,
                m.mean_abs_cos_pca
            );
        }
        Experiment::Relu2 {
            seeds,
            first_seed,
            steps,
            lr,
            norm,
            alpha,
            tau,
            json,
        } => {
            let norm = match norm.as_str() {
                "row" => Normalization::PerRow,
                "frobenius" => Normalization::Frobenius,
                other => bail!("--norm must be 'row' or 'frobenius', got '{other}'"),
            };
            let alpha = match alpha.as_str() {
                "uniform" => AlphaRule::Uniform,
                "infonce" => AlphaRule::InfoNce { tau },
                other => bail!("--alpha must be 'uniform' or 'infonce', got '{other}'"),
            };
            let cfg = Relu2Config {
                seed: first_seed,
                lr,
                norm,
                alpha,
                ..Relu2Config::default()
            };
            let rep = relu2_seeds(&cfg, seeds, steps)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rep)?);
                return Ok(());
            }
            println!(
                "two-layer network (PAPER §5.3): d=10, hidden 10, out 20, N=128 pairs, {steps} steps, W₁ norm {norm:?}, α {alpha:?}"
            );
            println!(
                "{:>5} {:>10} {:>12}  top singular values of W₁ (ReLU)",
                "seed", "erank ReLU", "erank linear"
            );
            for s in &rep.seeds {
                let top: Vec<String> = s
                    .singular_values_relu
                    .iter()
                    .take(4)
                    .map(|v| format!("{v:.3}"))
                    .collect();
                println!(
                    "{:>5} {:>10.3} {:>12.3}  {}",
                    s.seed,
                    s.effective_rank_relu,
                    s.effective_rank_linear,
                    top.join(" ")
                );
            }
            let m = &rep.summary;
            println!(
                "summary: mean erank ReLU {:.3} (share > 1.5: {:.2}), mean erank linear {:.3} (share rank 1: {:.2})",
                m.mean_effective_rank_relu,
                m.fraction_relu_above_1_5,
                m.mean_effective_rank_linear,
                m.fraction_linear_rank_one
            );
        }
    }
    Ok(())
}
