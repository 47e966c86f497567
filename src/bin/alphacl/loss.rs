//! `alphacl loss` — the reference calculator.
//!
//! Reads 2B rows of raw (unnormalised) embeddings — rows k and k+B are a positive pair — from a
//! CSV file or stdin (comma- or whitespace-separated numbers, `#` starts a comment, blank lines
//! are skipped) and prints, computed in f64 by the same code the trainer runs in f32:
//! `{"loss": x, "grad": [[...]], "alpha": [[...]], "beta": [...]}` with the gradient taken with
//! respect to the raw input rows.

use std::io::Read as _;
use std::path::PathBuf;

use alphacl::loss::{LOSSES, LossSpec, evaluate};
use anyhow::{Context as _, bail};
use ndarray::Array2;

/// Arguments of `alphacl loss`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// CSV file with 2B rows of raw embeddings (rows k and k+B are partners).
    #[arg(
        long,
        value_name = "Z.csv",
        conflicts_with = "stdin",
        required_unless_present_any = ["stdin", "bench", "catalogue"]
    )]
    pub input: Option<PathBuf>,
    /// Read the embeddings from standard input instead of a file.
    #[arg(long)]
    pub stdin: bool,
    /// The loss, in the text form, e.g. `nt-xent:tau=0.5` or `acl-direct:tau=0.5,p=4,eps=0`
    /// (with --bench: repeatable, default the two standard-workload losses).
    #[arg(long, value_name = "SPEC", required_unless_present_any = ["bench", "catalogue"])]
    pub loss: Vec<String>,
    /// Print JSON (loss, grad, alpha, beta) instead of a readable summary.
    #[arg(long)]
    pub json: bool,
    /// Use the raw rows as z (no L2 normalisation), as in the paper's theory.
    #[arg(long)]
    pub no_normalize: bool,
    /// Micro-benchmark instead: time loss + α + ∂L/∂y in f32 on a random batch (prints JSON).
    #[arg(long, conflicts_with_all = ["input", "stdin"])]
    pub bench: bool,
    /// Print the loss catalogue instead: one default spec per line (with --json: every loss's
    /// parameters with default, range and slider range), for tools that must cover every loss.
    #[arg(long, hide = true, conflicts_with_all = ["input", "stdin", "bench", "loss"])]
    pub catalogue: bool,
    /// With --bench: number of pairs B (the batch has 2B rows).
    #[arg(long, default_value_t = 256)]
    pub pairs: usize,
    /// With --bench: embedding dimension d.
    #[arg(long, default_value_t = 128)]
    pub dim: usize,
    /// With --bench: seconds of this thread's CPU time per loss.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
}

/// Parsed input: the matrix and, for each row, its 1-based line number in the input.
pub struct Embeddings {
    /// 2B × d raw embeddings.
    pub rows: Array2<f64>,
    /// Input line of each row (for error messages).
    pub lines: Vec<usize>,
}

/// Parses the CSV text. Every error names the offending line.
pub fn parse_embeddings(text: &str) -> anyhow::Result<Embeddings> {
    let mut data: Vec<f64> = Vec::new();
    let mut lines = Vec::new();
    let mut width: Option<(usize, usize)> = None;
    for (idx, raw_line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let content = raw_line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let mut count = 0;
        for field in content
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
        {
            let v: f64 = field
                .parse()
                .map_err(|_| anyhow::anyhow!("line {line_no}: '{field}' is not a number"))?;
            if !v.is_finite() {
                bail!(
                    "line {line_no}: '{field}' is not a finite number (NaN and infinity are not allowed)"
                );
            }
            data.push(v);
            count += 1;
        }
        if count == 0 {
            bail!("line {line_no}: no numbers (use commas or spaces between values)");
        }
        match width {
            None => width = Some((count, line_no)),
            Some((w, first)) if w != count => bail!(
                "line {line_no}: {count} values, but line {first} has {w} (every row needs the same number of columns)"
            ),
            _ => {}
        }
        lines.push(line_no);
    }
    let n = lines.len();
    if n == 0 {
        bail!("no embeddings in the input (expected 2B rows of numbers, B >= 2)");
    }
    if n % 2 != 0 {
        bail!(
            "{n} rows: the batch needs an even number of rows 2B (row k and row k+B are a positive pair)"
        );
    }
    if n < 4 {
        bail!(
            "{n} rows: the batch needs at least 4 rows (B >= 2 pairs) so every anchor has a negative"
        );
    }
    let d = width.map_or(0, |w| w.0);
    let rows = Array2::from_shape_vec((n, d), data).context("internal: inconsistent row widths")?;
    Ok(Embeddings { rows, lines })
}

/// The calculator's result as JSON.
pub fn compute(
    emb: &Embeddings,
    spec: &LossSpec,
    normalize: bool,
) -> anyhow::Result<serde_json::Value> {
    if normalize {
        for (r, row) in emb.rows.rows().into_iter().enumerate() {
            if row.iter().all(|&x| x == 0.0) {
                bail!(
                    "line {}: row {r} has zero norm and cannot be L2-normalised (fix the row or pass --no-normalize)",
                    emb.lines[r]
                );
            }
        }
    }
    let out = evaluate::<f64>(spec, emb.rows.view(), normalize)
        .map_err(|e| anyhow::anyhow!("{} failed: {e}", spec.to_text()))?;
    let mat =
        |a: &Array2<f64>| -> Vec<Vec<f64>> { a.rows().into_iter().map(|r| r.to_vec()).collect() };
    Ok(serde_json::json!({
        "loss": out.loss,
        "grad": mat(&out.grad),
        "alpha": mat(&out.alpha),
        "beta": out.beta.to_vec(),
    }))
}

fn summary(
    v: &serde_json::Value,
    spec: &LossSpec,
    normalize: bool,
    rows: usize,
    dim: usize,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "loss {}  ({} pairs × 2 views, d = {dim}, {})",
        spec.to_text(),
        rows / 2,
        if normalize {
            "L2-normalised"
        } else {
            "raw rows"
        }
    );
    let _ = writeln!(s, "value  {}", v["loss"].as_f64().unwrap_or(f64::NAN));
    let fmt_row = |r: &serde_json::Value| -> String {
        r.as_array()
            .map(|xs| {
                xs.iter()
                    .map(|x| format!("{:>11.4e}", x.as_f64().unwrap_or(f64::NAN)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    let _ = writeln!(s, "beta   {}", fmt_row(&v["beta"]));
    let _ = writeln!(s, "grad (∂L/∂y, one row per input row):");
    for r in v["grad"].as_array().into_iter().flatten() {
        let _ = writeln!(s, "  {}", fmt_row(r));
    }
    let _ = writeln!(s, "alpha (row i = anchor, zero on self and partner):");
    for r in v["alpha"].as_array().into_iter().flatten() {
        let _ = writeln!(s, "  {}", fmt_row(r));
    }
    s.push_str("(pass --json for machine-readable output)\n");
    s
}

/// The catalogue as JSON: for each loss its name, default spec and parameters.
pub fn catalogue_json() -> serde_json::Value {
    let losses: Vec<serde_json::Value> = LOSSES
        .iter()
        .map(|info| {
            let params: Vec<serde_json::Value> = info
                .params
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "key": p.key,
                        "default": p.default,
                        "range": p.range.describe(),
                        "slider": [p.slider.0, p.slider.1],
                    })
                })
                .collect();
            serde_json::json!({
                "name": info.name,
                "spec": LossSpec::defaults(info.kind).to_text(),
                "params": params,
            })
        })
        .collect();
    serde_json::Value::Array(losses)
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.catalogue {
        if args.json {
            println!("{}", serde_json::to_string(&catalogue_json())?);
        } else {
            for info in LOSSES {
                println!("{}", LossSpec::defaults(info.kind).to_text());
            }
        }
        return Ok(());
    }
    let specs = args
        .loss
        .iter()
        .map(|t| LossSpec::parse(t).map_err(|e| anyhow::anyhow!("--loss: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.bench {
        if args.pairs < 2 || args.dim == 0 || !args.seconds.is_finite() || args.seconds < 0.0 {
            bail!("--bench needs --pairs >= 2, --dim >= 1 and --seconds >= 0");
        }
        let v = alphacl::loss::bench::loss_bench_with_clock(
            &specs,
            args.pairs,
            args.dim,
            args.seconds,
            &thread_cpu_seconds,
        );
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let [spec] = &specs[..] else {
        bail!("give exactly one --loss SPEC (several are only allowed with --bench)");
    };
    let text = match (&args.input, args.stdin) {
        (_, true) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading embeddings from stdin")?;
            s
        }
        (Some(path), false) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, false) => bail!("give --input Z.csv or --stdin"),
    };
    let source = match &args.input {
        Some(p) if !args.stdin => p.display().to_string(),
        _ => "stdin".to_string(),
    };
    let emb = parse_embeddings(&text).with_context(|| format!("in {source}"))?;
    let normalize = !args.no_normalize;
    let v = compute(&emb, spec, normalize).with_context(|| format!("in {source}"))?;
    if args.json {
        println!("{}", serde_json::to_string(&v)?);
    } else {
        print!(
            "{}",
            summary(&v, spec, normalize, emb.rows.nrows(), emb.rows.ncols())
        );
    }
    Ok(())
}

/// CPU time of this thread in seconds (Linux `/proc/thread-self/schedstat`, whose first field
/// is nanoseconds on the CPU); the wall clock where that file is unavailable.
fn thread_cpu_seconds() -> f64 {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(
            || {
                ORIGIN
                    .get_or_init(std::time::Instant::now)
                    .elapsed()
                    .as_secs_f64()
            },
            |ns| ns * 1e-9,
        )
}
