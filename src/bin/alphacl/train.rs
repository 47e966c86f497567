//! `alphacl train`: headless runs that write `metrics.csv` and `run.json`.

use alphacl::train::{RunConfig, Trainer};
use anyhow::{Context as _, Result};
use std::path::PathBuf;

/// Arguments of `alphacl train`.
#[derive(clap::Args)]
pub struct Args {
    /// A config file: the text form `data=...&loss=...` or a run.json with a "config" field.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override one key, e.g. `--set loss=acl-direct:tau=0.5,p=4,eps=0` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Number of steps.
    #[arg(long, default_value_t = 500)]
    steps: usize,
    /// Output directory.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn load_config(args: &Args) -> Result<RunConfig> {
    let mut cfg = match &args.config {
        None => RunConfig::default(),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let text = text.trim();
            if text.starts_with('{') {
                let v: serde_json::Value =
                    serde_json::from_str(text).context("parsing JSON config")?;
                let c = v
                    .get("config")
                    .and_then(|c| c.as_str())
                    .context("a JSON config needs a \"config\" string")?;
                RunConfig::parse(c)?
            } else {
                RunConfig::parse(text)?
            }
        }
    };
    for kv in &args.set {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--set needs KEY=VALUE, got '{kv}'"))?;
        cfg.set(k.trim(), v.trim())?;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let cfg = load_config(&args)?;
    eprintln!("config: {}", cfg.to_text());
    let mut t = Trainer::new(cfg)?;
    let start = std::time::Instant::now();
    for s in 0..args.steps {
        let r = t.step()?;
        if (s + 1) % 100 == 0 || s + 1 == args.steps {
            let sps = (s + 1) as f64 / start.elapsed().as_secs_f64();
            eprintln!(
                "step {:>6}  loss {:.5}  knn {:.3}  {:.1} steps/s",
                r.step,
                r.loss,
                t.history.last_knn().unwrap_or(f64::NAN),
                sps
            );
        }
    }
    t.refresh_snapshot();
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("metrics.csv"), t.history.to_csv())?;
        let run = serde_json::json!({
            "config": t.config.to_text(),
            "steps": t.step_count(),
            "final_loss": t.history.loss.last(),
            "final_knn_acc": t.history.last_knn(),
        });
        std::fs::write(out.join("run.json"), serde_json::to_string_pretty(&run)?)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}
