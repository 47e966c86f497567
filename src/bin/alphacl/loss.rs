//! `alphacl loss` — the reference calculator.
//!
//! Reads 2B rows of raw (unnormalised) embeddings — rows k and k+B are a positive pair — from a
//! CSV file or stdin (comma- or whitespace-separated numbers, `#` starts a comment, blank lines
//! are skipped) and prints, computed in f64 by the same code the trainer runs in f32:
//! `{"loss": x, "grad": [[...]], "alpha": [[...]], "beta": [...]}` with the gradient taken with
//! respect to the raw input rows.

use std::io::Read as _;
use std::path::PathBuf;

use alphacl::loss::{LOSSES, LossOutput, LossSpec, evaluate};
use alphacl::spec::clip;
use alphacl::train::budget::{Budget, check_loss_budget};
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

/// The calculator's result in f64.
pub type Output = LossOutput<f64>;

/// Parsed input: the matrix and, for each row, its 1-based line number in the input.
pub struct Embeddings {
    /// 2B × d raw embeddings.
    pub rows: Array2<f64>,
    /// Input line of each row (for error messages).
    pub lines: Vec<usize>,
}

/// Decodes the input bytes: UTF-8 (a leading byte-order mark is accepted and dropped); a
/// byte that is not UTF-8 is an error giving its line, column and byte offset.
pub fn decode_text(bytes: &[u8]) -> anyhow::Result<String> {
    match alphacl::spec::decode_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => bail!("{e} (is this a CSV of numbers?)"),
    }
}

/// Splits one line into fields: a line with a comma is comma-separated (spaces around a
/// value are allowed, an empty field is an error); otherwise values are separated by spaces
/// or tabs.
fn split_fields(content: &str, line_no: usize) -> anyhow::Result<Vec<&str>> {
    if !content.contains(',') {
        return Ok(content.split_whitespace().collect());
    }
    let mut fields = Vec::new();
    for (i, f) in content.split(',').enumerate() {
        let f = f.trim();
        if f.is_empty() {
            bail!(
                "line {line_no}: field {} is empty (two commas in a row, or a comma at the end of the line)",
                i + 1
            );
        }
        if f.contains(char::is_whitespace) {
            bail!(
                "line {line_no}: '{}' holds a space inside a comma-separated field (mixed separators, or decimal commas? write 1.5, not 1,5)",
                clip(f)
            );
        }
        fields.push(f);
    }
    Ok(fields)
}

/// Parses the CSV text. Every error names the offending line.
pub fn parse_embeddings(text: &str) -> anyhow::Result<Embeddings> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
        for field in split_fields(content, line_no)? {
            let v: f64 = field.parse().map_err(|_| {
                anyhow::anyhow!("line {line_no}: '{}' is not a number", clip(field))
            })?;
            if !v.is_finite() {
                bail!(
                    "line {line_no}: '{}' is not a finite number (NaN and infinity are not allowed)",
                    clip(field)
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

/// Refuses an input whose loss matrices (n × n in f64) would not fit in `budget`, before
/// computing anything.
pub fn check_input_budget(emb: &Embeddings, budget: Budget) -> anyhow::Result<()> {
    let (n, d) = emb.rows.dim();
    check_loss_budget(n as u64, d as u64, 8, budget).map_err(|e| {
        anyhow::anyhow!(
            "{n} rows × {d} columns: {e} (the α and distance matrices are n × n; split the batch)"
        )
    })?;
    Ok(())
}

/// The calculator's result (f64).
pub fn compute(emb: &Embeddings, spec: &LossSpec, normalize: bool) -> anyhow::Result<Output> {
    if normalize {
        for (r, row) in emb.rows.rows().into_iter().enumerate() {
            if row.iter().all(|&x| x == 0.0) {
                bail!(
                    "line {}: row {r} has zero norm and cannot be L2-normalised (fix the row or pass --no-normalize)",
                    emb.lines[r]
                );
            }
            // Below √(smallest normal f64) the squared norm underflows: the row is subnormal.
            let largest = row.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            if largest < f64::MIN_POSITIVE.sqrt() {
                bail!(
                    "line {}: row {r} is too small to be L2-normalised (largest |value| {largest:e}; values near 1e-308 are subnormal): scale the row or pass --no-normalize",
                    emb.lines[r]
                );
            }
        }
    }
    evaluate::<f64>(spec, emb.rows.view(), normalize)
        .map_err(|e| anyhow::anyhow!("{} failed: {e}", spec.to_text()))
}

/// Writes `{"loss": x, "grad": [[...]], "alpha": [[...]], "beta": [...]}` to `w` row by row
/// (no JSON tree in memory; non-finite numbers are written as `null`, like serde_json).
pub fn write_json(out: &Output, w: &mut impl std::io::Write) -> std::io::Result<()> {
    fn num(w: &mut impl std::io::Write, x: f64) -> std::io::Result<()> {
        serde_json::to_writer(&mut *w, &x).map_err(std::io::Error::other)
    }
    fn row(w: &mut impl std::io::Write, r: ndarray::ArrayView1<f64>) -> std::io::Result<()> {
        w.write_all(b"[")?;
        for (j, &x) in r.iter().enumerate() {
            if j > 0 {
                w.write_all(b",")?;
            }
            num(w, x)?;
        }
        w.write_all(b"]")
    }
    fn matrix(w: &mut impl std::io::Write, m: &Array2<f64>) -> std::io::Result<()> {
        w.write_all(b"[")?;
        for (i, r) in m.rows().into_iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            row(w, r)?;
        }
        w.write_all(b"]")
    }
    w.write_all(b"{\"loss\":")?;
    num(w, out.loss)?;
    w.write_all(b",\"grad\":")?;
    matrix(w, &out.grad)?;
    w.write_all(b",\"alpha\":")?;
    matrix(w, &out.alpha)?;
    w.write_all(b",\"beta\":")?;
    row(w, out.beta.view())?;
    w.write_all(b"}\n")?;
    w.flush()
}

/// The readable summary, written row by row.
fn write_summary(
    out: &Output,
    spec: &LossSpec,
    normalize: bool,
    w: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let (rows, dim) = out.grad.dim();
    writeln!(
        w,
        "loss {}  ({} pairs × 2 views, d = {dim}, {})",
        spec.to_text(),
        rows / 2,
        if normalize {
            "L2-normalised"
        } else {
            "raw rows"
        }
    )?;
    writeln!(w, "value  {}", out.loss)?;
    let fmt_row = |r: ndarray::ArrayView1<f64>| -> String {
        r.iter()
            .map(|x| format!("{x:>11.4e}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    writeln!(w, "beta   {}", fmt_row(out.beta.view()))?;
    writeln!(w, "grad (∂L/∂y, one row per input row):")?;
    for r in out.grad.rows() {
        writeln!(w, "  {}", fmt_row(r))?;
    }
    writeln!(w, "alpha (row i = anchor, zero on self and partner):")?;
    for r in out.alpha.rows() {
        writeln!(w, "  {}", fmt_row(r))?;
    }
    writeln!(w, "(pass --json for machine-readable output)")?;
    w.flush()
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
        let budget = crate::memory_budget()?;
        check_loss_budget(2 * args.pairs as u64, args.dim as u64, 4, budget).map_err(|e| {
            anyhow::anyhow!(
                "--bench --pairs {} --dim {}: {e} (the α and distance matrices are 2B × 2B)",
                args.pairs,
                args.dim
            )
        })?;
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
    let bytes = match (&args.input, args.stdin) {
        (_, true) => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .context("reading embeddings from stdin")?;
            b
        }
        (Some(path), false) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, false) => bail!("give --input Z.csv or --stdin"),
    };
    let source = match &args.input {
        Some(p) if !args.stdin => p.display().to_string(),
        _ => "stdin".to_string(),
    };
    let emb = decode_text(&bytes)
        .and_then(|text| parse_embeddings(&text))
        .with_context(|| format!("in {source}"))?;
    drop(bytes);
    check_input_budget(&emb, crate::memory_budget()?).with_context(|| format!("in {source}"))?;
    let normalize = !args.no_normalize;
    let out = compute(&emb, spec, normalize).with_context(|| format!("in {source}"))?;
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        write_json(&out, &mut w)
    } else {
        write_summary(&out, spec, normalize, &mut w)
    }
    .context("writing the result to stdout")?;
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
