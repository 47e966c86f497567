//! `alphacl bench --workload standard [--json]`: the standard workload of DESIGN.md
//! (see `alphacl::train::bench`), single thread, for both standard losses.

use alphacl::train::bench::{STANDARD_LOSSES, standard_workload, standard_workload_with_clock};
use anyhow::Result;

/// Arguments of `alphacl bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Workload name (only `standard` exists).
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
    if args.workload != "standard" {
        anyhow::bail!("unknown workload '{}' (known: standard)", args.workload);
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
