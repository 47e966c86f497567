//! `alphacl train`: headless runs that write `metrics.csv`, `run.json` and `weights.json`.
//!
//! `alphacl train [--config FILE] [--set key=value]… [--init-weights FILE] [--steps N]
//! [--out DIR]` — the config is the `RunConfig` text form (or a run.json with a "config"
//! string); every `--set` overrides one key. `--init-weights` starts from a saved
//! `weights.json` (from the lab or an earlier `--out`; format in `alphacl::nn::weights`) with a
//! fresh optimiser; weights that do not fit the run's encoder or data are an error. Progress
//! (step, loss, kNN accuracy, steps/s) is shown on one stderr line. A divergence stops the run
//! cleanly: the outputs are still written (weights.json holds the last finite parameters),
//! with the reason in run.json.
//!
//! `--out DIR` also writes figures as PNG and SVG (`alphacl::figures`): `curves` (loss and
//! accuracy vs step), `spectrum` (log₁₀ eigenvalues of the covariance of the final evaluation
//! embeddings) and `alpha` (the last batch's pairwise importance α, sorted by class). A figure
//! that cannot be drawn is a warning on stderr; it never stops the other outputs.

use alphacl::train::{RunConfig, TrainError, Trainer};
use anyhow::{Context as _, Result};
use std::io::Write as _;
use std::path::{Path, PathBuf};

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
    /// Output directory for metrics.csv, run.json and weights.json.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Start from the encoder weights in this weights.json instead of a fresh initialisation.
    #[arg(long, value_name = "FILE")]
    init_weights: Option<PathBuf>,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
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

/// A text progress bar: `[#####-----] step/total loss … knn … steps/s`.
fn progress(done: usize, total: usize, loss: f32, knn: Option<f64>, sps: f64) -> String {
    const W: usize = 24;
    let filled = (done * W).checked_div(total).unwrap_or(W).min(W);
    format!(
        "\r[{}{}] {done:>6}/{total}  loss {loss:.5}  knn {}  {sps:.1} steps/s ",
        "#".repeat(filled),
        "-".repeat(W - filled),
        knn.map_or("  -  ".to_string(), |k| format!("{k:.3}")),
    )
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let cfg = load_config(&args)?;
    eprintln!("config: {}", cfg.to_text());
    // Generated sets are built from the seed; loaded ones (CIFAR) come from web/data/ or
    // $ALPHACL_DATA_DIR.
    let mut t = if cfg.data.asset_path().is_some() {
        let data = cfg.data.load_native(cfg.seed)?;
        Trainer::with_data(cfg, data)?
    } else {
        Trainer::new(cfg)?
    };
    if let Some(p) = &args.init_weights {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading weights {}", p.display()))?;
        t.load_weights_json(&text)
            .with_context(|| format!("loading weights from {}", p.display()))?;
        eprintln!("weights: loaded from {}", p.display());
    }
    eprintln!(
        "encoder: {} ({} parameters), data: {} ({} train samples, dim {})",
        t.config.encoder.to_text(),
        t.encoder.num_params(),
        t.data.name,
        t.data.x_train.nrows(),
        t.data.dim()
    );
    let start = std::time::Instant::now();
    let mut last_draw = start;
    let mut failure: Option<TrainError> = None;
    for s in 0..args.steps {
        match t.step() {
            Ok(r) => {
                let now = std::time::Instant::now();
                if !args.quiet && ((now - last_draw).as_millis() >= 100 || s + 1 == args.steps) {
                    last_draw = now;
                    let sps = (s + 1) as f64 / start.elapsed().as_secs_f64().max(1e-9);
                    eprint!(
                        "{}",
                        progress(s + 1, args.steps, r.loss, t.history.last_knn(), sps)
                    );
                    let _ = std::io::stderr().flush();
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if !args.quiet {
        eprintln!();
    }
    let secs = start.elapsed().as_secs_f64();
    if failure.is_none() {
        t.refresh_snapshot();
    }
    let steps_per_sec = t.step_count() as f64 / secs.max(1e-9);
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        std::fs::write(out.join("metrics.csv"), t.history.to_csv())?;
        let run = serde_json::json!({
            "config": t.config.to_text(),
            "steps": t.step_count(),
            "seconds": secs,
            "steps_per_sec": steps_per_sec,
            "final_loss": t.history.loss.last(),
            "final_knn_acc": t.history.last_knn(),
            "loss_changes": t.history.loss_changes,
            "num_params": t.encoder.num_params(),
            "error": failure.as_ref().map(|e| e.to_string()),
        });
        std::fs::write(out.join("run.json"), serde_json::to_string_pretty(&run)?)?;
        std::fs::write(out.join("weights.json"), t.weights_json())?;
        eprintln!(
            "wrote {}/metrics.csv, run.json and weights.json",
            out.display()
        );
        let figures = write_figures(&t, out);
        if !figures.is_empty() {
            eprintln!("wrote figures: {}", figures.join(", "));
        }
    }
    if let Some(e) = failure {
        anyhow::bail!("{e}");
    }
    eprintln!(
        "done: {} steps in {secs:.1} s ({steps_per_sec:.1} steps/s), final loss {:.5}, kNN accuracy {}",
        t.step_count(),
        t.history.loss.last().copied().unwrap_or(f32::NAN),
        t.history
            .last_knn()
            .map_or("n/a".to_string(), |k| format!("{k:.3}"))
    );
    Ok(())
}

/// PNG size of the spectrum and α figures written by `--out`.
const FIGURE_PNG: (u32, u32) = (1000, 800);
/// PNG size of the two-panel curves figure.
const CURVES_PNG: (u32, u32) = (1500, 600);

/// Writes the curves, spectrum and α figures (PNG and SVG) into `out` and returns the names of
/// the files written; a figure that fails is a warning on stderr.
fn write_figures(t: &Trainer, out: &Path) -> Vec<String> {
    use alphacl::figures;
    let mut written = Vec::new();
    let mut save = |name: &str, bytes: Result<Vec<u8>, String>| match bytes
        .and_then(|b| std::fs::write(out.join(name), b).map_err(|e| e.to_string()))
    {
        Ok(()) => written.push(name.to_string()),
        Err(e) => eprintln!("warning: figure {name} not written: {e}"),
    };
    let svg = |r: Result<String, figures::FigureError>| {
        r.map(String::into_bytes).map_err(|e| e.to_string())
    };
    let runs = [figures::RunSeries {
        label: t.config.loss.to_text(),
        history: &t.history,
    }];
    let (cw, ch) = CURVES_PNG;
    save(
        "curves.png",
        figures::curves_png(&runs, cw, ch).map_err(|e| e.to_string()),
    );
    save("curves.svg", svg(figures::curves_svg(&runs)));
    let embeddings = t.snapshot.embeddings.mapv(f64::from);
    let spectrum = alphacl::analysis::spectrum::log_spectrum(embeddings.view())
        .map(|s| vec![(format!("step {}", t.snapshot.step), s)])
        .map_err(|e| e.to_string());
    let (w, h) = FIGURE_PNG;
    save(
        "spectrum.png",
        spectrum
            .clone()
            .and_then(|s| figures::spectrum_png(&s, w, h).map_err(|e| e.to_string())),
    );
    save(
        "spectrum.svg",
        spectrum.and_then(|s| svg(figures::spectrum_svg(&s))),
    );
    let (alpha, labels) = (t.snapshot.alpha.view(), &t.snapshot.batch_labels);
    save(
        "alpha.png",
        figures::alpha_png(alpha, labels, w, h).map_err(|e| e.to_string()),
    );
    save("alpha.svg", svg(figures::alpha_svg(alpha, labels)));
    written
}
