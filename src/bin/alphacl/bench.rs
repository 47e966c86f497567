//! `alphacl bench --workload standard [--json]`: the standard workload of DESIGN.md
//! (see `alphacl::train::bench`), single thread, for both standard losses.
//!
//! `alphacl bench --workload cifar`: real training steps of the CIFAR preset
//! (`examples/cifar10-16px.txt`: batch 256 at 16 px, the BatchNorm conv encoder) on the
//! prepared data, augmentation included, with the split per phase (augmentation, forward,
//! loss, backward, update) and per layer; timed by the wall clock.

use alphacl::train::bench::{STANDARD_LOSSES, standard_workload, standard_workload_with_clock};
use anyhow::Result;

/// Arguments of `alphacl bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Workload name: `standard` or `cifar`.
    #[arg(long, default_value = "standard")]
    workload: String,
    /// Timed steps per loss.
    #[arg(long, default_value_t = 60)]
    steps: usize,
    /// Untimed warm-up steps per loss.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Only this loss (text form) instead of both standard losses.
    #[arg(long)]
    loss: Option<String>,
    /// Time with the wall clock instead of this thread's CPU time (CPU time is the default:
    /// it is what a single-threaded workload costs even when other processes share the cores).
    #[arg(long)]
    wall: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    match args.workload.as_str() {
        "standard" => {}
        "cifar" => return cifar(&args),
        other => anyhow::bail!("unknown workload '{other}' (known: standard, cifar)"),
    }
    let losses: Vec<String> = match &args.loss {
        Some(l) => vec![l.clone()],
        None => STANDARD_LOSSES.iter().map(|s| s.to_string()).collect(),
    };
    let mut results = Vec::new();
    for l in &losses {
        let r = if args.wall {
            standard_workload(l, args.warmup, args.steps)?
        } else {
            standard_workload_with_clock(l, args.warmup, args.steps, &thread_cpu_seconds)?
        };
        if !args.json {
            println!("{}", r.summary());
        }
        results.push(r);
    }
    if args.json {
        let v = serde_json::json!({
            "workload": "standard",
            "threads": 1,
            "clock": if args.wall { "wall" } else { "thread-cpu" },
            "rows": 512,
            "encoder": "mlp:hidden=512,out=128",
            "input_dim": 768,
            "optim": "adam:lr=0.001",
            "results": results,
            "peak_rss_mb": peak_rss_mb(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    Ok(())
}

/// CPU time of the calling thread in seconds (Linux `/proc/thread-self/schedstat`, first field
/// in nanoseconds); falls back to the wall clock elsewhere.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns * 1e-9)
        .unwrap_or_else(|| {
            use std::sync::OnceLock;
            static T0: OnceLock<std::time::Instant> = OnceLock::new();
            T0.get_or_init(std::time::Instant::now)
                .elapsed()
                .as_secs_f64()
        })
}

/// Peak resident set size of this process in MB (Linux `VmHWM`), if known.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The `cifar` workload: the preset's real steps with a per-phase and per-layer profile.
fn cifar(args: &Args) -> Result<()> {
    use alphacl::train::Trainer;
    let mut cfg = alphacl::train::bench::cifar_preset()?;
    if let Some(l) = &args.loss {
        cfg.set("loss", l)?;
    }
    // No evaluation inside the timed steps.
    cfg.eval_every = 1_000_000;
    let data = cfg.data.load_native(cfg.seed)?;
    let mut t = Trainer::with_data(cfg, data)?;
    for _ in 0..args.warmup {
        t.step()?;
    }
    t.set_profiling(true);
    let start = std::time::Instant::now();
    for _ in 0..args.steps {
        t.step()?;
    }
    let secs = start.elapsed().as_secs_f64();
    let p = t.phase_times().unwrap_or_default();
    let k = p.steps.max(1) as f64;
    let ms = |s: f64| s * 1e3 / k;
    let step_ms = ms(p.batch + p.forward + p.loss + p.backward + p.update);
    let layers: Vec<serde_json::Value> = t
        .encoder
        .layer_profile()
        .into_iter()
        .map(|(name, f, b)| serde_json::json!({"layer": name, "ms_forward": ms(f), "ms_backward": ms(b)}))
        .collect();
    let v = serde_json::json!({
        "workload": "cifar",
        "threads": 1,
        "clock": "wall",
        "config": t.config.to_text(),
        "steps": args.steps,
        "steps_per_sec": args.steps as f64 / secs.max(1e-9),
        "ms_step": step_ms,
        "ms_augment": ms(p.batch),
        "augment_share": p.batch / (step_ms * k / 1e3).max(1e-12),
        "ms_forward": ms(p.forward),
        "ms_loss": ms(p.loss),
        "ms_backward": ms(p.backward),
        "ms_update": ms(p.update),
        "layers": layers,
        "peak_rss_mb": peak_rss_mb(),
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "cifar preset: {:.2} steps/s, {step_ms:.1} ms/step (augment {:.1} ms = {:.1} %, forward {:.1}, loss {:.1}, backward {:.1}, update {:.1})",
        args.steps as f64 / secs.max(1e-9),
        ms(p.batch),
        100.0 * ms(p.batch) / step_ms.max(1e-12),
        ms(p.forward),
        ms(p.loss),
        ms(p.backward),
        ms(p.update)
    );
    for (name, f, b) in t.encoder.layer_profile() {
        println!(
            "  {name:<22} forward {:>7.2} ms   backward {:>7.2} ms",
            ms(f),
            ms(b)
        );
    }
    Ok(())
}
