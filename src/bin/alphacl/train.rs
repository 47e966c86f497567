//! `alphacl train`: headless runs that write `metrics.csv`, `run.json` and `weights.json`.
//!
//! `alphacl train [--config FILE] [--set key=value]… [--init-weights FILE] [--steps N]
//! [--minutes M] [--eval-set full|subset] [--out DIR]` — `--minutes` stops after M minutes of
//! training time (evaluations excluded); kNN and the linear probe evaluate the
//! representation (before any projection head) on the whole held-out split against the whole
//! training split (`--eval-set full`, the default) and run.json records the raw- and
//! centred-input kNN of the same protocol as baselines. The config is the `RunConfig` text form (or a run.json with a "config"
//! string); every `--set` overrides one key. `--init-weights` starts from a saved
//! `weights.json` (from the lab or an earlier `--out`; format in `alphacl::nn::weights`) with a
//! fresh optimiser; weights that do not fit the run's encoder or data are an error. Progress
//! (step, loss, kNN accuracy, steps/s) is shown on one stderr line. A divergence stops the run
//! cleanly: the outputs are still written — weights.json holds the last finite parameters (the
//! trainer's recovery checkpoint, labelled by its `note` and `step`) — with the reason in
//! run.json.
//!
//! `--out DIR` is checked before anything trains (a file, an unwritable path: an error at
//! once); a directory holding another run's outputs is refused unless `--force`, which writes
//! the new run beside it and swaps it in whole at the end (see `outdir`). Every file is
//! written under a temporary name and renamed; metrics.csv is rewritten every 2 s while the
//! run goes. SIGINT / SIGTERM finishes the current step, writes everything with
//! `"interrupted": true` in run.json and exits with status 130 (a second signal exits at once).
//!
//! `--out DIR` also writes figures as PNG and SVG (`alphacl::figures`): `curves` (loss and
//! accuracy vs step), `spectrum` (log₁₀ eigenvalues of the covariance of the final evaluation
//! embeddings) and `alpha` (the last batch's pairwise importance α, sorted by class). A figure
//! that cannot be drawn is a warning on stderr; it never stops the other outputs.

use crate::outdir::RunDir;
use alphacl::train::{EvalProtocol, InputBaselines, RunConfig, StepReport, TrainError, Trainer};
use anyhow::{Context as _, Result};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use web_time::{Duration, Instant};

/// How often metrics.csv is rewritten while a run goes.
const METRICS_EVERY: Duration = Duration::from_secs(2);

/// Arguments of `alphacl train`.
#[derive(clap::Args)]
pub struct Args {
    /// A config file: the text form `data=...&loss=...` or a run.json with a "config" field.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override one key, e.g. `--set loss=acl-direct:tau=0.5,p=4,eps=0` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Number of steps (default 500; with --minutes, an optional upper bound).
    #[arg(long)]
    steps: Option<usize>,
    /// Stop after this many minutes of training time (evaluations excluded).
    #[arg(long, value_name = "M")]
    minutes: Option<f64>,
    /// What kNN and the linear probe are measured on: `full` (the whole training split as
    /// the memory bank, the whole held-out split as queries) or `subset` (the lab's fixed
    /// 1024 / 512-sample subsets).
    #[arg(long, value_name = "full|subset", default_value = "full")]
    eval_set: String,
    /// Output directory for metrics.csv, run.json and weights.json (checked before training;
    /// an existing non-empty directory needs --force).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing output directory whole (the new run is written beside it and
    /// swapped in at the end).
    #[arg(long)]
    force: bool,
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
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let text = alphacl::spec::decode_utf8(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e} (a config is UTF-8 text)", p.display()))?
                .trim();
            if text.is_empty() {
                anyhow::bail!(
                    "{}: the config file is empty (write e.g. loss=nt-xent:tau=0.5&batch=64, or leave out --config for the default run)",
                    p.display()
                );
            }
            if text.starts_with('{') {
                let v: serde_json::Value = serde_json::from_str(text)
                    .with_context(|| format!("{}: parsing JSON config", p.display()))?;
                let c = v.get("config").and_then(|c| c.as_str()).with_context(|| {
                    format!("{}: a JSON config needs a \"config\" string", p.display())
                })?;
                RunConfig::parse(c).with_context(|| format!("in {}", p.display()))?
            } else {
                RunConfig::parse(text).with_context(|| format!("in {}", p.display()))?
            }
        }
    };
    for kv in &args.set {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--set needs KEY=VALUE, got '{}'", alphacl::spec::clip(kv)))?;
        cfg.set(k.trim(), v.trim())
            .with_context(|| format!("--set {}", alphacl::spec::clip(kv)))?;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// A text progress bar: `[#####-----] step/total loss … knn … steps/s`; `fraction` is the
/// share of the step or time budget used.
fn progress(
    done: usize,
    total: &str,
    fraction: f64,
    loss: f32,
    knn: Option<f64>,
    sps: f64,
) -> String {
    const W: usize = 24;
    let filled = ((fraction * W as f64) as usize).min(W);
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
    let protocol = match args.eval_set.as_str() {
        "full" => EvalProtocol::Full,
        "subset" => EvalProtocol::Subset,
        other => anyhow::bail!(
            "--eval-set must be full or subset, got '{}'",
            alphacl::spec::clip(other)
        ),
    };
    // Before anything is allocated: the run must fit in this machine's budget.
    let estimate = alphacl::train::check_budget_for(&cfg, protocol, crate::memory_budget()?)?;
    eprintln!("memory: {}", estimate.describe());
    // The output directory is checked (and created) before anything is trained.
    let dir = args
        .out
        .as_deref()
        .map(|o| RunDir::prepare(o, args.force))
        .transpose()?;
    let stop = stop_on_signals();
    // Generated sets are built from the seed; loaded ones (CIFAR) come from web/data/ or
    // $ALPHACL_DATA_DIR.
    let mut t = new_trainer(cfg)?;
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
    t.set_eval_protocol(protocol);
    let base = t.input_baselines();
    eprintln!(
        "evaluation: kNN (k = {}) on {} held-out samples against {} training samples; raw-input kNN {:.3}, centred {:.3}",
        alphacl::analysis::probe::KNN_K,
        if protocol == EvalProtocol::Full {
            t.data.x_test.nrows()
        } else {
            t.data.x_test.nrows().min(512)
        },
        if protocol == EvalProtocol::Full {
            t.data.x_train.nrows()
        } else {
            t.data.x_train.nrows().min(1024)
        },
        base.raw_knn,
        base.centred_knn
    );
    let budget = Budget::new(args.steps, args.minutes)?;
    let total = budget.label();
    let start = Instant::now();
    let mut last_draw = start;
    let mut last_metrics = start;
    let failure = train_until_stopped(&mut t, &budget, &stop, |t, r| {
        let now = Instant::now();
        if let Some(d) = &dir
            && now - last_metrics >= METRICS_EVERY
        {
            last_metrics = now;
            if let Err(e) = d.write("metrics.csv", t.history.to_csv().as_bytes()) {
                eprintln!("\nwarning: {e:#}");
            }
        }
        let s = t.step_count();
        if !args.quiet && ((now - last_draw).as_millis() >= 100 || s == budget.max_steps) {
            last_draw = now;
            let sps = s as f64 / t.train_seconds().max(1e-9);
            eprint!(
                "{}",
                progress(
                    s,
                    &total,
                    budget.fraction(t),
                    r.loss,
                    t.history.last_knn(),
                    sps
                )
            );
            let _ = std::io::stderr().flush();
        }
    });
    if !args.quiet {
        eprintln!();
    }
    let secs = start.elapsed().as_secs_f64();
    let steps_per_sec = steps_per_sec(&t);
    let interrupted = stop.load(Ordering::SeqCst);
    // After a divergence the weights to keep are the last finite ones (the recovery
    // checkpoint), not the blown-up parameters of the failing step.
    let weights_note = failure.as_ref().map(|e| match t.rollback() {
        Some(s) => format!(
            "the last finite parameters, from step {s} (a recovery checkpoint); the run stopped: {e}"
        ),
        None => format!("the initial parameters, the last finite ones; the run stopped: {e}"),
    });
    let weights_step = if failure.is_some() {
        t.recovery_step().unwrap_or(0)
    } else {
        t.step_count()
    };
    if let Some(d) = dir {
        d.write("metrics.csv", t.history.to_csv().as_bytes())?;
        let mut run = run_record(&t, secs, &args.eval_set, &base, failure.as_ref());
        run["interrupted"] = serde_json::json!(interrupted);
        run["weights_step"] = serde_json::json!(weights_step);
        run["weights_note"] = serde_json::json!(weights_note);
        d.write("run.json", serde_json::to_string_pretty(&run)?.as_bytes())?;
        let mut weights = t.encoder.export_weights(weights_step, &t.config.to_text());
        weights.note = weights_note;
        d.write("weights.json", weights.to_json().as_bytes())?;
        let figures = write_figures(&t, &d);
        let target = d.target().display().to_string();
        d.finish()?;
        eprintln!("wrote {target}/metrics.csv, run.json and weights.json");
        if !figures.is_empty() {
            eprintln!("wrote figures: {}", figures.join(", "));
        }
    }
    if interrupted {
        eprintln!(
            "interrupted at step {}: the outputs so far are written (run.json says \"interrupted\": true)",
            t.step_count()
        );
        std::process::exit(130);
    }
    if let Some(e) = failure {
        anyhow::bail!("{e}");
    }
    eprintln!(
        "done: {} steps in {:.1} s of training ({steps_per_sec:.1} steps/s; {secs:.1} s in all with evaluation), final loss {:.5}, kNN accuracy {} (raw inputs {:.3}, centred {:.3})",
        t.step_count(),
        t.train_seconds(),
        t.history.loss.last().copied().unwrap_or(f32::NAN),
        t.history
            .last_knn()
            .map_or("n/a".to_string(), |k| format!("{k:.3}")),
        base.raw_knn,
        base.centred_knn
    );
    Ok(())
}

/// The trainer of `cfg`. Generated sets are built from the seed; loaded ones (CIFAR) come from
/// web/data/ or $ALPHACL_DATA_DIR.
pub(crate) fn new_trainer(cfg: RunConfig) -> Result<Trainer> {
    Ok(if cfg.data.asset_path().is_some() {
        let data = cfg.data.load_native(cfg.seed)?;
        Trainer::with_data(cfg, data)?
    } else {
        Trainer::new(cfg)?
    })
}

/// How long a run trains: at most `max_steps` steps and, with `seconds`, until that much
/// training time (evaluations excluded) is used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Step limit (`usize::MAX` for a time budget without `--steps`).
    pub max_steps: usize,
    /// Training-time limit in seconds.
    pub seconds: Option<f64>,
}

impl Budget {
    /// From `--steps` and `--minutes` (500 steps when neither is given).
    pub fn new(steps: Option<usize>, minutes: Option<f64>) -> Result<Self> {
        let seconds = minutes.map(|m| m * 60.0);
        if let Some(b) = seconds
            && !(b.is_finite() && b > 0.0)
        {
            anyhow::bail!("--minutes must be a positive number");
        }
        let max_steps = match (steps, seconds) {
            (Some(n), _) => n,
            (None, Some(_)) => usize::MAX,
            (None, None) => 500,
        };
        Ok(Self { max_steps, seconds })
    }

    /// `N` steps or `M min`, as the progress line shows it.
    pub fn label(&self) -> String {
        match self.seconds {
            Some(s) => format!("{} min", s / 60.0),
            None => self.max_steps.to_string(),
        }
    }

    /// The share of the budget `t` has used.
    pub fn fraction(&self, t: &Trainer) -> f64 {
        match self.seconds {
            Some(b) => t.train_seconds() / b,
            None => t.step_count() as f64 / self.max_steps.max(1) as f64,
        }
    }

    fn done(&self, t: &Trainer) -> bool {
        t.step_count() >= self.max_steps || self.seconds.is_some_and(|b| t.train_seconds() >= b)
    }
}

/// Steps `t` until the budget is used or the run diverges (the error is returned), calling
/// `on_step` after every step; a run that did not diverge ends with an evaluation of its last
/// step.
pub(crate) fn train_until(
    t: &mut Trainer,
    budget: &Budget,
    on_step: impl FnMut(&Trainer, &StepReport),
) -> Option<TrainError> {
    train_until_stopped(t, budget, &AtomicBool::new(false), on_step)
}

/// As [`train_until`], also stopping (after the current step) once `stop` is set.
pub(crate) fn train_until_stopped(
    t: &mut Trainer,
    budget: &Budget,
    stop: &AtomicBool,
    mut on_step: impl FnMut(&Trainer, &StepReport),
) -> Option<TrainError> {
    while !budget.done(t) && !stop.load(Ordering::SeqCst) {
        match t.step() {
            Ok(r) => on_step(t, &r),
            Err(e) => return Some(e),
        }
    }
    if t.history
        .evals
        .last()
        .is_none_or(|e| e.step != t.step_count())
    {
        t.refresh_snapshot();
    }
    None
}

/// A flag set by the first SIGINT / SIGTERM (training then stops after the current step and
/// writes its outputs); a second signal exits at once with status 130.
fn stop_on_signals() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let installed = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond interrupt: exiting without writing");
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: finishing the current step, then writing the outputs");
    });
    if let Err(e) = installed {
        eprintln!("warning: SIGINT/SIGTERM will not be caught ({e})");
    }
    stop
}

/// Training rate: steps per second of training time (evaluations excluded).
pub(crate) fn steps_per_sec(t: &Trainer) -> f64 {
    t.step_count() as f64 / t.train_seconds().max(1e-9)
}

/// The fields of run.json: the config, the budget used, the final and best accuracies, the
/// input baselines, the evaluation history and the reason of a divergence.
pub(crate) fn run_record(
    t: &Trainer,
    seconds: f64,
    eval_set: &str,
    base: &InputBaselines,
    failure: Option<&TrainError>,
) -> serde_json::Value {
    serde_json::json!({
        "config": t.config.to_text(),
        "steps": t.step_count(),
        "seconds": seconds,
        "train_seconds": t.train_seconds(),
        "eval_seconds": t.eval_seconds(),
        "steps_per_sec": steps_per_sec(t),
        "final_loss": t.history.loss.last(),
        "eval_set": eval_set,
        "final_knn_acc": t.history.last_knn(),
        "final_probe_acc": t.history.last_probe(),
        "best_knn_acc": t.history.evals.iter().map(|e| e.knn_acc).fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a)))),
        "baseline_raw_knn": base.raw_knn,
        "baseline_centred_knn": base.centred_knn,
        "evals": t.history.evals,
        "loss_changes": t.history.loss_changes,
        "num_params": t.encoder.num_params(),
        "error": failure.map(|e| e.to_string()),
    })
}

/// PNG size of the spectrum and α figures written by `--out`.
const FIGURE_PNG: (u32, u32) = (1000, 800);
/// PNG size of the two-panel curves figure.
const CURVES_PNG: (u32, u32) = (1500, 600);

/// Writes the curves, spectrum and α figures (PNG and SVG) into `out` and returns the names of
/// the files written; a figure that fails is a warning on stderr.
fn write_figures(t: &Trainer, out: &RunDir) -> Vec<String> {
    use alphacl::figures;
    let mut written = Vec::new();
    let mut save = |name: &str, bytes: Result<Vec<u8>, String>| match bytes
        .and_then(|b| out.write(name, &b).map_err(|e| format!("{e:#}")))
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
