//! `alphacl sweep`: a grid of runs × seeds, in parallel, resumable, tabulated.
//!
//! `alphacl sweep --grid FILE --seeds N --out DIR [--jobs J] [--steps S | --minutes M]` trains
//! every point of the grid's cartesian product with seeds 1..N (as `alphacl train --out`
//! would, under the full evaluation protocol), one run per thread. `alphacl sweep --report DIR`
//! rebuilds the tables from the stored runs without training.
//!
//! **Grid file** (text): one `key = value | value | …` line per [`RunConfig`] key (`data`,
//! `encoder`, `loss`, `optim`, `aug`, `batch`, `normalize`, `eval`; the seed comes from
//! `--seeds`), `#` comment lines, named lists `list NAME = value | …` that any value list can
//! include as `@NAME`, and optionally `base = <config text>` (e.g. the contents of
//! `examples/cifar10-16px.txt`), which every point starts from before its keys are set. Inside a value, braces expand: `acl-direct:tau={0.3,0.5},p=4`
//! is two values. JSON is accepted too: `{"loss": ["nt-xent", "@acl"], "batch": [16, 32],
//! "lists": {"acl": ["acl-direct:p=4"]}}` (a single value may be a string or number).
//! Everything is validated before any run starts: an unknown key or an invalid value is an
//! error naming the key.
//!
//! **Layout of DIR**: `runs/<hash>/run.json` and `metrics.csv` per finished run, `<hash>`
//! being the FNV-1a 64 hash of the run's config text ([`RunConfig::to_text`], seed included)
//! and budget. A run is written into `runs/.tmp-<hash>-<pid>/` and renamed into place once
//! complete, so a run directory is always whole; a sweep started again skips the runs whose
//! directory exists and removes stale temporary ones (so: one sweep per DIR at a time).
//! `grid.txt` and `command.txt` record the last sweep. `results.csv` holds one row per run
//! (every config key, seed, accuracies, collapse metrics of the final representation,
//! timings last) and `results.md` a table of mean ± std over seeds per grid point, in grid
//! order, with the command.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use alphacl::train::config::CONFIG_KEYS;
use alphacl::train::{EvalProtocol, RunConfig};
use anyhow::{Context as _, Result, bail};

use crate::train::{Budget, new_trainer, run_record, train_until};

/// Arguments of `alphacl sweep`.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file: lines `key = value | value | …` (config keys), `list NAME = …` (used as
    /// `@NAME`), `base = <config text>`; braces expand (`p={2,4}`); or the same as JSON.
    #[arg(long, required_unless_present = "report", conflicts_with = "report")]
    grid: Option<PathBuf>,
    /// Number of seeds per grid point (seeds 1..N).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Output directory (runs/, results.csv, results.md).
    #[arg(long, required_unless_present = "report")]
    out: Option<PathBuf>,
    /// Runs in parallel (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Steps per run (default 500; with --minutes, an optional upper bound).
    #[arg(long)]
    steps: Option<usize>,
    /// Minutes of training time per run (evaluations excluded).
    #[arg(long, value_name = "M")]
    minutes: Option<f64>,
    /// Only rebuild results.csv and results.md of DIR from its stored runs.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
    /// Where the lab is served, for the links of results.md (each row opens its seed-1 run).
    #[arg(long, value_name = "URL", default_value = DEFAULT_APP)]
    app: String,
    /// Give each row of results.md an HTML anchor `PREFIX-<its varying values>` (e.g.
    /// `cifar-nt-xent-tau-0-5`), so that a page quoting the table can be linked row by row.
    #[arg(long, value_name = "PREFIX")]
    anchors: Option<String>,
}

/// How results.md links out (to the lab) and in (row anchors).
struct Links<'a> {
    app: &'a str,
    anchors: Option<&'a str>,
}

/// The address `scripts/serve.sh` serves the lab at.
const DEFAULT_APP: &str = "http://127.0.0.1:8080/";

impl Args {
    fn links(&self) -> Links<'_> {
        Links {
            app: &self.app,
            anchors: self.anchors.as_deref(),
        }
    }
}

/// Lower-case letters and digits, every other run of characters one `-`:
/// `cifar-nt-xent:tau=0.5` → `cifar-nt-xent-tau-0-5`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    if let Some(dir) = &args.report {
        let n = write_report(dir, &args.links())?;
        eprintln!(
            "wrote {}/results.csv and results.md ({n} runs)",
            dir.display()
        );
        return Ok(());
    }
    let (Some(grid), Some(out)) = (&args.grid, &args.out) else {
        bail!("sweep needs --grid FILE and --out DIR (or --report DIR)");
    };
    if args.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let text =
        std::fs::read_to_string(grid).with_context(|| format!("reading {}", grid.display()))?;
    let grid = Grid::parse(&text).with_context(|| format!("grid {}", grid.display()))?;
    let budget = Budget::new(args.steps, args.minutes)?;
    let tag = budget_tag(args.steps, args.minutes);
    let runs = grid.runs(args.seeds)?;
    // Loaded data sets must be there before anything runs.
    let assets: std::collections::BTreeSet<&str> =
        runs.iter().filter_map(|c| c.data.asset_path()).collect();
    for a in assets {
        let f = alphacl::data::prepare::asset_file(a);
        if !f.exists() {
            bail!(
                "data: {} not found (prepare it with scripts/prepare-data.sh or set ALPHACL_DATA_DIR)",
                f.display()
            );
        }
    }
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir).with_context(|| format!("creating {}", out.display()))?;
    remove_stale_temps(&runs_dir)?;
    // The grid and the command, for the report (grid order of the rows, the command line).
    std::fs::write(out.join("grid.txt"), &text)?;
    let command: Vec<String> = std::env::args().skip(1).collect();
    std::fs::write(
        out.join("command.txt"),
        format!("alphacl {}\n", command.join(" ")),
    )?;
    let todo: Vec<(String, RunConfig)> = runs
        .into_iter()
        .map(|c| (run_hash(&c, &tag), c))
        .filter(|(h, _)| !runs_dir.join(h).exists())
        .collect();
    let total = grid.points() * args.seeds as usize;
    let skipped = total - todo.len();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, todo.len().max(1));
    eprintln!(
        "sweep: {total} runs ({} grid points × {} seeds), {skipped} already done, {} to run on {jobs} threads, budget {}",
        grid.points(),
        args.seeds,
        todo.len(),
        budget.label()
    );
    let failures = run_all(
        &todo, &runs_dir, &budget, &tag, jobs, skipped, total, args.quiet,
    );
    let n = write_report(out, &args.links())?;
    eprintln!(
        "wrote {}/results.csv and results.md ({n} runs)",
        out.display()
    );
    if !failures.is_empty() {
        bail!(
            "{} run(s) could not be trained:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    Ok(())
}

/// `steps=S`, `minutes=M` or both: the budget part of a run's identity.
fn budget_tag(steps: Option<usize>, minutes: Option<f64>) -> String {
    match (steps, minutes) {
        (s, Some(m)) => format!(
            "minutes={m}{}",
            s.map_or(String::new(), |s| format!(",steps={s}"))
        ),
        (s, None) => format!("steps={}", s.unwrap_or(500)),
    }
}

/// FNV-1a, 64 bit: a hash that is the same on every machine and every run.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The directory name of a run: the hash of its config text (seed included) and budget.
fn run_hash(cfg: &RunConfig, tag: &str) -> String {
    format!(
        "{:016x}",
        fnv1a64(format!("{}&budget={tag}", cfg.to_text()).as_bytes())
    )
}

/// Removes `.tmp-*` directories left by a killed sweep.
fn remove_stale_temps(runs_dir: &Path) -> Result<()> {
    for e in std::fs::read_dir(runs_dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with(".tmp-") {
            std::fs::remove_dir_all(e.path())
                .with_context(|| format!("removing {}", e.path().display()))?;
        }
    }
    Ok(())
}

/// A parsed grid: for each key given, its list of values (as text), in [`CONFIG_KEYS`] order.
#[derive(Debug)]
struct Grid {
    /// The config every point starts from (`base = <config text>`; default: the defaults).
    base: RunConfig,
    axes: Axes,
}

impl Grid {
    /// Parses the text or JSON form and checks every value of every key.
    fn parse(text: &str) -> Result<Self> {
        let (lists, keys) = if text.trim_start().starts_with('{') {
            parse_json(text)?
        } else {
            parse_text(text)?
        };
        let mut axes = Vec::new();
        let mut base = RunConfig::default();
        for (key, raw) in keys {
            if key == "base" {
                let [text] = raw.as_slice() else {
                    bail!("base: one config text, e.g. base = data=cifar:size=16&batch=256");
                };
                base = RunConfig::parse(text).context("base")?;
                continue;
            }
            if key == "seed" {
                bail!("seed: the seeds of a sweep are 1..N from --seeds; remove the seed key");
            }
            let mut values = Vec::new();
            for v in raw {
                if let Some(name) = v.strip_prefix('@') {
                    let list = lists
                        .get(name)
                        .with_context(|| format!("{key}: no list named '{name}'"))?;
                    for item in list {
                        values.extend(expand_braces(item).with_context(|| key.clone())?);
                    }
                } else {
                    values.extend(expand_braces(&v).with_context(|| key.clone())?);
                }
            }
            if values.is_empty() {
                bail!("{key}: no values");
            }
            // An unknown key or a bad value: RunConfig::set's error names the key.
            for v in &values {
                RunConfig::default().set(&key, v)?;
            }
            axes.push((key, values));
        }
        axes.sort_by_key(|(k, _)| CONFIG_KEYS.iter().position(|c| c == k));
        Ok(Self { base, axes })
    }

    /// Number of grid points (the product of the list lengths).
    fn points(&self) -> usize {
        self.axes.iter().map(|(_, v)| v.len()).product()
    }

    /// Every run: each grid point (last key varying fastest) with seeds 1..=`seeds`, checked
    /// with [`RunConfig::validate`].
    fn runs(&self, seeds: u64) -> Result<Vec<RunConfig>> {
        let mut out = Vec::new();
        for p in 0..self.points() {
            let mut cfg = self.base.clone();
            let mut rest = p;
            let mut picks = vec![0; self.axes.len()];
            for (i, (_, vals)) in self.axes.iter().enumerate().rev() {
                picks[i] = rest % vals.len();
                rest /= vals.len();
            }
            for ((k, vals), &i) in self.axes.iter().zip(&picks) {
                cfg.set(k, &vals[i])?;
            }
            for seed in 1..=seeds {
                let mut c = cfg.clone();
                c.seed = seed;
                c.validate()
                    .with_context(|| format!("grid point {}", c.to_text()))?;
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// Named value lists.
type Lists = BTreeMap<String, Vec<String>>;
/// (key, values) in the order given.
type Axes = Vec<(String, Vec<String>)>;

/// `list NAME = a | b`, `key = a | b` lines; `#` starts a comment line.
fn parse_text(text: &str) -> Result<(Lists, Axes)> {
    let mut lists = Lists::new();
    let mut keys: Axes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (lhs, rhs) = line
            .split_once('=')
            .with_context(|| format!("line {}: expected `key = value | …`", n + 1))?;
        let values: Vec<String> = rhs
            .split('|')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let lhs = lhs.trim();
        if let Some(name) = lhs.strip_prefix("list ") {
            lists.insert(name.trim().to_string(), values);
        } else if keys.iter().any(|(k, _)| k == lhs) {
            bail!("{lhs}: given twice (line {})", n + 1);
        } else {
            keys.push((lhs.to_string(), values));
        }
    }
    Ok((lists, keys))
}

/// `{"key": [v, …] or v, …, "lists": {"NAME": [v, …]}}`.
fn parse_json(text: &str) -> Result<(Lists, Axes)> {
    let v: serde_json::Value = serde_json::from_str(text).context("parsing JSON grid")?;
    let obj = v.as_object().context("a JSON grid is an object")?;
    let values = |key: &str, v: &serde_json::Value| -> Result<Vec<String>> {
        let one = |x: &serde_json::Value| match x {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            serde_json::Value::Bool(b) => Ok(u8::from(*b).to_string()),
            other => bail!("{key}: expected a string or number, got {other}"),
        };
        match v {
            serde_json::Value::Array(a) => a.iter().map(one).collect(),
            x => Ok(vec![one(x)?]),
        }
    };
    let mut lists = Lists::new();
    let mut keys = Vec::new();
    for (k, v) in obj {
        if k == "lists" {
            for (name, l) in v.as_object().context("lists: expected an object")? {
                lists.insert(name.clone(), values(name, l)?);
            }
        } else {
            keys.push((k.clone(), values(k, v)?));
        }
    }
    Ok((lists, keys))
}

/// Expands the first `{a,b,…}` of `v` (and recursively the rest): `p={2,4}` → `p=2`, `p=4`.
fn expand_braces(v: &str) -> Result<Vec<String>> {
    let Some(open) = v.find('{') else {
        if v.contains('}') {
            bail!("unmatched '}}' in '{v}'");
        }
        return Ok(vec![v.to_string()]);
    };
    let close = v[open..]
        .find('}')
        .map(|c| open + c)
        .with_context(|| format!("unmatched '{{' in '{v}'"))?;
    let mut out = Vec::new();
    for alt in v[open + 1..close].split(',') {
        let s = format!("{}{}{}", &v[..open], alt.trim(), &v[close + 1..]);
        out.extend(expand_braces(&s)?);
    }
    Ok(out)
}

/// One message from a worker: a finished run's wall time, or an error.
type Done = std::result::Result<f64, String>;

/// Trains `todo` on `jobs` threads, drawing the sweep's progress line; returns the errors.
#[allow(clippy::too_many_arguments)]
fn run_all(
    todo: &[(String, RunConfig)],
    runs_dir: &Path,
    budget: &Budget,
    tag: &str,
    jobs: usize,
    skipped: usize,
    total: usize,
    quiet: bool,
) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Done>();
    let start = Instant::now();
    let mut failures = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((hash, cfg)) = todo.get(i) else {
                        break;
                    };
                    let r = train_one(cfg, hash, runs_dir, budget, tag)
                        .map_err(|e| format!("{}: {e:#}", cfg.to_text()));
                    if tx.send(r).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = 0;
        let draw = |done: usize| {
            if quiet {
                return;
            }
            let elapsed = start.elapsed().as_secs_f64();
            let left = todo.len() - done;
            let eta = if done == 0 {
                "?".to_string()
            } else {
                clock(elapsed / done as f64 * left as f64)
            };
            let running = left.min(jobs);
            eprint!(
                "\r[sweep] {}/{total} runs done ({skipped} from before), {running} running, {} elapsed, ETA {eta}   ",
                skipped + done,
                clock(elapsed)
            );
            let _ = std::io::stderr().flush();
        };
        draw(0);
        for r in rx {
            done += 1;
            if let Err(e) = r {
                failures.push(e);
            }
            draw(done);
        }
        if !quiet {
            eprintln!();
        }
    });
    failures
}

/// `42s`, `3m05s`, `2h07m`.
fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// Trains one run and writes `run.json` and `metrics.csv` atomically into `runs_dir/hash`.
fn train_one(
    cfg: &RunConfig,
    hash: &str,
    runs_dir: &Path,
    budget: &Budget,
    tag: &str,
) -> Result<f64> {
    let start = Instant::now();
    let mut t = new_trainer(cfg.clone())?;
    t.set_eval_protocol(EvalProtocol::Full);
    let base = t.input_baselines();
    let failure = train_until(&mut t, budget, |_, _| {});
    if failure.is_none() {
        t.probe_last_eval();
    }
    let collapse = alphacl::train::probe::probe_collapse(&t);
    let secs = start.elapsed().as_secs_f64();
    let mut run = run_record(&t, secs, "full", &base, failure.as_ref());
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let extra = serde_json::json!({
        "hash": hash,
        "seed": cfg.seed,
        "budget": tag,
        "created": created,
        "effective_rank": collapse.as_ref().map(|m| m.effective_rank),
        "rankme": collapse.as_ref().map(|m| m.rankme),
        "alignment": collapse.as_ref().map(|m| m.alignment),
        "uniformity": collapse.as_ref().map(|m| m.uniformity),
    });
    if let (Some(r), serde_json::Value::Object(e)) = (run.as_object_mut(), extra) {
        r.extend(e);
    }
    let tmp = runs_dir.join(format!(".tmp-{hash}-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    std::fs::write(tmp.join("metrics.csv"), t.history.to_csv())?;
    std::fs::write(tmp.join("run.json"), serde_json::to_string_pretty(&run)?)?;
    std::fs::rename(&tmp, runs_dir.join(hash))
        .with_context(|| format!("moving {} into place", tmp.display()))?;
    Ok(secs)
}

/// One stored run, as the tables read it.
struct Row {
    cfg: RunConfig,
    /// The config text without the seed: the grid point.
    point: String,
    budget: String,
    hash: String,
    steps: u64,
    /// Metric columns (name, value) in [`METRICS`] order.
    metrics: Vec<Option<f64>>,
    error: String,
}

/// Metric columns: (CSV name, JSON pointer into run.json, Markdown header, in the Markdown
/// table). `init_*` are the step-0 evaluation (the untrained encoder).
const METRICS: &[(&str, &str, &str, bool)] = &[
    ("final_loss", "/final_loss", "loss", false),
    ("final_knn", "/final_knn_acc", "kNN", true),
    ("best_knn", "/best_knn_acc", "best kNN", true),
    ("final_probe", "/final_probe_acc", "probe", true),
    ("effective_rank", "/effective_rank", "eff. rank", true),
    ("alignment", "/alignment", "align", true),
    ("uniformity", "/uniformity", "unif", true),
    ("baseline_raw_knn", "/baseline_raw_knn", "raw kNN", false),
    (
        "baseline_centred_knn",
        "/baseline_centred_knn",
        "centred kNN",
        false,
    ),
    ("init_knn", "/evals/0/knn_acc", "init kNN", false),
    ("init_probe", "/evals/0/probe_acc", "init probe", false),
    // Timing columns last (they differ between otherwise identical sweeps).
    ("steps_per_sec", "/steps_per_sec", "steps/s", true),
    ("train_seconds", "/train_seconds", "train s", false),
    ("wall_seconds", "/seconds", "wall s", false),
];

/// Reads every `runs/*/run.json` of `dir`, sorted by grid point and seed.
fn read_runs(dir: &Path) -> Result<Vec<Row>> {
    let runs_dir = dir.join("runs");
    let mut rows = Vec::new();
    let entries =
        std::fs::read_dir(&runs_dir).with_context(|| format!("reading {}", runs_dir.display()))?;
    for e in entries {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path().join("run.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let cfg_text = v["config"].as_str().context("run.json without a config")?;
        let cfg = RunConfig::parse(cfg_text).with_context(|| format!("{}", path.display()))?;
        let mut no_seed = cfg.clone();
        no_seed.seed = 0;
        rows.push(Row {
            point: no_seed.to_text(),
            budget: v["budget"].as_str().unwrap_or("").to_string(),
            hash: e.file_name().to_string_lossy().into_owned(),
            steps: v["steps"].as_u64().unwrap_or(0),
            metrics: METRICS
                .iter()
                .map(|m| v.pointer(m.1).and_then(serde_json::Value::as_f64))
                .collect(),
            error: v["error"].as_str().unwrap_or("").to_string(),
            cfg,
        });
    }
    // Grid order when the sweep's grid.txt is there (other runs after, by config text).
    let order: BTreeMap<String, usize> = std::fs::read_to_string(dir.join("grid.txt"))
        .ok()
        .and_then(|g| Grid::parse(&g).ok()?.runs(1).ok())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            c.seed = 0;
            (c.to_text(), i)
        })
        .collect();
    let rank = |r: &Row| order.get(&r.point).copied().unwrap_or(usize::MAX);
    rows.sort_by(|a, b| {
        (rank(a), &a.point, &a.budget, a.cfg.seed).cmp(&(rank(b), &b.point, &b.budget, b.cfg.seed))
    });
    Ok(rows)
}

/// The value of each [`CONFIG_KEYS`] key in `cfg`'s text form.
fn key_values(cfg: &RunConfig) -> BTreeMap<String, String> {
    alphacl::train::config::split_pairs(&cfg.to_text())
        .into_iter()
        .collect()
}

/// A CSV cell, quoted when it holds a comma, a quote or a newline.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x}"))
}

/// Writes `results.csv` and `results.md` of `dir`; returns the number of runs.
fn write_report(dir: &Path, links: &Links) -> Result<usize> {
    let rows = read_runs(dir)?;
    let mut csv = String::new();
    let timing = METRICS
        .iter()
        .position(|m| m.0 == "steps_per_sec")
        .unwrap_or(METRICS.len());
    let names: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
    let head: Vec<&str> = CONFIG_KEYS
        .iter()
        .copied()
        .chain(["budget", "steps"])
        .chain(names[..timing].iter().copied())
        .chain(["error", "hash"])
        .chain(names[timing..].iter().copied())
        .collect();
    csv.push_str(&head.join(","));
    csv.push('\n');
    for r in &rows {
        let kv = key_values(&r.cfg);
        let mut cells: Vec<String> = CONFIG_KEYS
            .iter()
            .map(|k| csv_cell(kv.get(*k).map_or("", String::as_str)))
            .collect();
        cells.push(csv_cell(&r.budget));
        cells.push(r.steps.to_string());
        cells.extend(r.metrics[..timing].iter().map(|&m| num(m)));
        cells.push(csv_cell(&r.error));
        cells.push(r.hash.clone());
        cells.extend(r.metrics[timing..].iter().map(|&m| num(m)));
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    std::fs::write(dir.join("results.csv"), csv)?;
    let figures = write_figures(dir, &rows)?;
    let command = std::fs::read_to_string(dir.join("command.txt")).ok();
    let mut md = markdown(&rows, command.as_deref(), links);
    md.push_str(&theorem1_section(&rows));
    if !figures.is_empty() {
        md.push_str("\nSensitivity figures (mean ± std over seeds):\n\n");
        for f in &figures {
            let _ = writeln!(md, "![{f}]({f}.svg)");
        }
    }
    std::fs::write(dir.join("results.md"), md)?;
    Ok(rows.len())
}

/// Batches, rows (2B) and dimension of the Theorem 1 check, and its random directions.
const THEOREM1_BATCHES: u64 = 3;
const THEOREM1_SHAPE: (usize, usize) = (32, 16);
const THEOREM1_DIRECTIONS: usize = 16;

/// Theorem 1 for every loss of the sweep: the relative residual ‖∇L − g‖/‖g‖ between the
/// finite-difference gradient of the loss and the shared max-player gradient g
/// ([`alphacl::analysis::theorem1_residual`]), max over [`THEOREM1_BATCHES`] seeded Gaussian
/// batches of [`THEOREM1_SHAPE`] (normalised as the runs were), with g in f64 and in f32.
fn theorem1_section(rows: &[Row]) -> String {
    let mut specs: Vec<(String, bool)> = Vec::new();
    for r in rows {
        let k = (r.cfg.loss.to_text(), r.cfg.normalize);
        if !specs.contains(&k) {
            specs.push(k);
        }
    }
    let (n, d) = THEOREM1_SHAPE;
    let mut s = format!(
        "\nTheorem 1 (∇L = shared max-player gradient g): relative residual ‖∇L_fd − g‖/‖g‖, max over {THEOREM1_BATCHES} seeded Gaussian batches of {n} × {d} ({THEOREM1_DIRECTIONS} random directions, fourth-order central differences), g in f64 and in f32.\n\n| loss | normalize | residual (f64 g) | residual (f32 g) |\n|---|---|---|---|\n"
    );
    let mut worst = (0.0f64, String::new());
    for (text, normalize) in &specs {
        let Ok(spec) = alphacl::loss::LossSpec::parse(text) else {
            continue;
        };
        let (mut r64, mut r32) = (0.0f64, 0.0f64);
        let mut failed = None;
        for seed in 1..=THEOREM1_BATCHES {
            let mut rng = alphacl::rng::Rng::derive(seed, "sweep-theorem1");
            let z = ndarray::Array2::from_shape_fn((n, d), |_| rng.normal() as f32);
            match alphacl::analysis::theorem1_residual(
                &spec,
                &z,
                *normalize,
                THEOREM1_DIRECTIONS,
                seed,
            ) {
                Ok(t) => {
                    r64 = r64.max(t.relative_residual);
                    r32 = r32.max(t.relative_residual_f32);
                }
                Err(e) => failed = Some(e.to_string()),
            }
        }
        if let Some(e) = failed {
            let _ = writeln!(s, "| `{text}` | {} | {e} | |", u8::from(*normalize));
            continue;
        }
        if r64 >= worst.0 {
            worst = (r64, text.clone());
        }
        let _ = writeln!(
            s,
            "| `{text}` | {} | {r64:.1e} | {r32:.1e} |",
            u8::from(*normalize)
        );
    }
    if !worst.1.is_empty() {
        let _ = writeln!(
            s,
            "\nMax over the {} losses (f64 g): {:.1e} (`{}`).",
            specs.len(),
            worst.0,
            worst.1
        );
    }
    s
}

/// The metrics of a sensitivity figure's panels: (METRICS name, axis description).
const SENSITIVITY_PANELS: &[(&str, &str)] = &[
    ("final_knn", "kNN accuracy"),
    ("final_probe", "linear-probe accuracy"),
    ("effective_rank", "effective rank"),
];

/// PNG size of the sensitivity figures (1.5 × the SVG layout).
const SENSITIVITY_PNG: (u32, u32) = (1800, 660);

/// The runs of one sensitivity series by the swept parameter's value (as text).
type ByValue<'a> = BTreeMap<String, Vec<&'a Row>>;

/// `name:k=v,k=v` → (name, [(k, v)]).
fn split_loss(spec: &str) -> (&str, Vec<(&str, &str)>) {
    let (name, params) = spec.split_once(':').unwrap_or((spec, ""));
    let params = params
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    (name, params)
}

/// A loss spec without parameter `param`.
fn loss_without(spec: &str, param: &str) -> String {
    let (name, params) = split_loss(spec);
    let rest: Vec<String> = params
        .iter()
        .filter(|(k, _)| *k != param)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if rest.is_empty() {
        name.to_string()
    } else {
        format!("{name}:{}", rest.join(","))
    }
}

/// The sensitivity figures of the stored runs, one per loss parameter that takes at least
/// three values with everything else fixed: each series holds the runs that differ only in
/// that parameter (and the seed). Writes `sensitivity-<param>.png` and `.svg` into `dir`
/// and returns their base names.
fn sensitivity_figures(rows: &[Row]) -> Vec<(String, alphacl::figures::Sensitivity)> {
    use alphacl::figures::{
        MAX_SENSITIVITY_SERIES, Sensitivity, SensitivityPoint, SensitivitySeries,
    };
    let metric = |name: &str| METRICS.iter().position(|m| m.0 == name);
    let panels: Vec<usize> = SENSITIVITY_PANELS
        .iter()
        .filter_map(|(n, _)| metric(n))
        .collect();
    let mut params: Vec<String> = Vec::new();
    for r in rows {
        for (k, _) in split_loss(&r.cfg.loss.to_text()).1 {
            if !params.iter().any(|p| p == k) {
                params.push(k.to_string());
            }
        }
    }
    let mut out = Vec::new();
    for param in params {
        // Series key: the run's config text (no seed) with the parameter taken out of the loss,
        // and its budget; in the rows' (grid) order.
        let mut series: Vec<(String, String, ByValue)> = Vec::new();
        for r in rows {
            let loss = r.cfg.loss.to_text();
            let Some(value) = split_loss(&loss)
                .1
                .iter()
                .find(|(k, _)| *k == param)
                .map(|(_, v)| v.to_string())
            else {
                continue;
            };
            let label = loss_without(&loss, &param);
            let mut key: String = key_values(&r.cfg)
                .into_iter()
                .filter(|(k, _)| k != "seed" && k != "loss")
                .map(|(k, v)| format!("{k}={v}&"))
                .collect();
            let _ = write!(key, "loss={label}&budget={}", r.budget);
            match series.iter_mut().find(|s| s.0 == key) {
                Some(s) => s.2.entry(value).or_default().push(r),
                None => series.push((key, label, BTreeMap::from([(value, vec![r])]))),
            }
        }
        series.retain(|s| s.2.len() >= 3);
        if series.is_empty() {
            continue;
        }
        if series.len() > MAX_SENSITIVITY_SERIES {
            eprintln!(
                "sensitivity to {param}: {} series, drawing the first {MAX_SENSITIVITY_SERIES}",
                series.len()
            );
            series.truncate(MAX_SENSITIVITY_SERIES);
        }
        // Labels: the loss without the parameter, plus config keys that differ between series.
        let firsts: Vec<BTreeMap<String, String>> = series
            .iter()
            .map(|s| key_values(&s.2.values().next().expect("a value")[0].cfg))
            .collect();
        let differing: Vec<&str> = CONFIG_KEYS
            .iter()
            .copied()
            .filter(|k| *k != "loss" && *k != "seed")
            .filter(|k| firsts.iter().any(|kv| kv.get(*k) != firsts[0].get(*k)))
            .collect();
        let mut xs_all = Vec::new();
        let mut max_seeds = 0;
        let mut budgets: Vec<&str> = Vec::new();
        let fig_series: Vec<SensitivitySeries> = series
            .iter()
            .zip(&firsts)
            .map(|((_, label, by_value), kv)| {
                let mut label = label.clone();
                for k in &differing {
                    let _ = write!(label, " {k}={}", kv.get(*k).map_or("", String::as_str));
                }
                let points = by_value
                    .iter()
                    .filter_map(|(v, runs)| {
                        let x: f64 = v.parse().ok()?;
                        xs_all.push(x);
                        max_seeds = max_seeds.max(runs.len());
                        for r in runs {
                            if !budgets.contains(&r.budget.as_str()) {
                                budgets.push(&r.budget);
                            }
                        }
                        Some(SensitivityPoint {
                            x,
                            seeds: panels
                                .iter()
                                .map(|&m| runs.iter().filter_map(|r| r.metrics[m]).collect())
                                .collect(),
                        })
                    })
                    .collect();
                SensitivitySeries { label, points }
            })
            .collect();
        let positive = xs_all.iter().all(|&x| x > 0.0);
        let (lo, hi) = xs_all
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
        let log_x = positive && (param == "tau" || hi / lo >= 10.0);
        let shown = if param == "tau" { "τ" } else { param.as_str() };
        let fig = Sensitivity {
            title: format!(
                "sensitivity to {shown}: mean ± std over {max_seeds} seed{}, {}",
                if max_seeds == 1 { "" } else { "s" },
                budgets.join(" / ")
            ),
            param: if log_x {
                format!("{shown} (log scale)")
            } else {
                shown.to_string()
            },
            log_x,
            panels: SENSITIVITY_PANELS
                .iter()
                .map(|(_, d)| d.to_string())
                .collect(),
            series: fig_series,
        };
        out.push((format!("sensitivity-{param}"), fig));
    }
    out
}

/// Writes the [`sensitivity_figures`] of `rows` into `dir` as PNG and SVG; returns their names.
fn write_figures(dir: &Path, rows: &[Row]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, fig) in sensitivity_figures(rows) {
        let svg = alphacl::figures::sensitivity_svg(&fig).with_context(|| name.clone())?;
        let png = alphacl::figures::sensitivity_png(&fig, SENSITIVITY_PNG.0, SENSITIVITY_PNG.1)
            .with_context(|| name.clone())?;
        std::fs::write(dir.join(format!("{name}.svg")), svg)?;
        std::fs::write(dir.join(format!("{name}.png")), png)?;
        names.push(name);
    }
    Ok(names)
}

/// Mean and sample standard deviation of the finite values.
fn mean_std(xs: &[f64]) -> Option<(f64, f64)> {
    alphacl::figures::finite_mean_std(xs).map(|(m, sd, _)| (m, sd))
}

/// `metric` of each run of `group` minus that of the run of `reference` with the same seed:
/// mean ± std over the seeds both have ("ref." for the reference itself, "–" without a pair).
fn paired_delta(reference: &[&Row], group: &[&Row], metric: &str) -> String {
    if std::ptr::eq(reference, group) {
        return "ref.".into();
    }
    let Some(m) = METRICS.iter().position(|x| x.0 == metric) else {
        return "–".into();
    };
    let diffs: Vec<f64> = group
        .iter()
        .filter_map(|r| {
            let q = reference.iter().find(|q| q.cfg.seed == r.cfg.seed)?;
            Some(r.metrics[m]? - q.metrics[m]?)
        })
        .collect();
    match mean_std(&diffs) {
        Some((d, sd)) if diffs.len() > 1 => format!("{d:+.3} ± {sd:.3}"),
        Some((d, _)) => format!("{d:+.3}"),
        None => "–".into(),
    }
}

/// The Markdown table: one row per grid point (and budget), mean ± std over its seeds; the
/// config keys that are the same everywhere are listed above it.
fn markdown(rows: &[Row], command: Option<&str>, links: &Links) -> String {
    let mut groups: Vec<(&str, &str, Vec<&Row>)> = Vec::new();
    for r in rows {
        match groups.last_mut() {
            Some((p, b, g)) if *p == r.point && *b == r.budget => g.push(r),
            _ => groups.push((&r.point, &r.budget, vec![r])),
        }
    }
    let kvs: Vec<BTreeMap<String, String>> = groups
        .iter()
        .map(|(_, _, g)| key_values(&g[0].cfg))
        .collect();
    let keys: Vec<&str> = CONFIG_KEYS
        .iter()
        .copied()
        .filter(|k| *k != "seed")
        .collect();
    let varying: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| kvs.iter().any(|kv| kv.get(*k) != kvs[0].get(*k)))
        .collect();
    let budgets_vary = groups.iter().any(|g| g.1 != groups[0].1);
    let mut s = String::from("# Sweep results\n\n");
    if let Some(c) = command {
        let _ = writeln!(s, "Command: `{}`\n", c.trim());
    }
    let _ = writeln!(
        s,
        "{} runs, {} grid points; mean ± sample std over seeds (n = number of seeds). kNN and probe: held-out accuracy of the final representation; eff. rank, align, unif: collapse metrics on the probe batch.{} app: the lab with the row's seed-1 run (served by `scripts/serve.sh`).\n",
        rows.len(),
        groups.len(),
        if groups.len() > 1 {
            " Δ kNN, Δ probe: the difference to the first row, paired by seed (the same seed gives the same initialisation, batches and augmentations), mean ± std over the shared seeds."
        } else {
            ""
        }
    );
    if let Some(kv) = kvs.first() {
        let common: Vec<String> = keys
            .iter()
            .filter(|k| !varying.contains(k))
            .map(|k| format!("{k}={}", kv.get(*k).map_or("", String::as_str)))
            .collect();
        let _ = writeln!(s, "Common config: `{}`", common.join("&"));
        if !budgets_vary {
            let _ = writeln!(s, "\nBudget: {}", groups[0].1);
        }
        s.push('\n');
    }
    let mut head: Vec<String> = varying.iter().map(|k| k.to_string()).collect();
    if budgets_vary {
        head.push("budget".into());
    }
    head.push("n".into());
    head.extend(METRICS.iter().filter(|m| m.3).map(|m| m.2.to_string()));
    let paired = groups.len() > 1;
    if paired {
        head.extend(["Δ kNN".to_string(), "Δ probe".to_string()]);
    }
    head.push("app".into());
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for ((_, budget, g), kv) in groups.iter().zip(&kvs) {
        let values: Vec<&str> = varying
            .iter()
            .map(|k| kv.get(*k).map_or("", String::as_str))
            .collect();
        let mut cells: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        if let (Some(prefix), Some(first)) = (links.anchors, cells.first_mut()) {
            *first = format!(
                "<a id=\"{}\"></a>{first}",
                slug(&format!("{prefix}-{}", values.join("-")))
            );
        }
        if budgets_vary {
            cells.push(budget.to_string());
        }
        cells.push(g.len().to_string());
        for (i, m) in METRICS.iter().enumerate() {
            if !m.3 {
                continue;
            }
            let xs: Vec<f64> = g.iter().filter_map(|r| r.metrics[i]).collect();
            let prec = if m.0 == "steps_per_sec" { 1 } else { 3 };
            cells.push(mean_std(&xs).map_or("–".to_string(), |(m, sd)| {
                if g.len() > 1 {
                    format!("{m:.prec$} ± {sd:.prec$}")
                } else {
                    format!("{m:.prec$}")
                }
            }));
        }
        if paired {
            for name in ["final_knn", "final_probe"] {
                cells.push(paired_delta(&groups[0].2, g, name));
            }
        }
        let mut first = g[0].cfg.clone();
        first.seed = 1;
        cells.push(format!(
            "[open]({}#{}&view=curves)",
            links.app,
            first.to_text()
        ));
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    let base: Vec<String> = METRICS
        .iter()
        .enumerate()
        .filter(|(_, m)| m.0.starts_with("baseline_") || m.0.starts_with("init_"))
        .filter_map(|(i, m)| {
            let xs: Vec<f64> = rows.iter().filter_map(|r| r.metrics[i]).collect();
            let (mean, sd) = mean_std(&xs)?;
            Some(format!("{} {mean:.3} ± {sd:.3}", m.2))
        })
        .collect();
    if !base.is_empty() {
        let _ = writeln!(
            s,
            "\nBaselines under the same protocol, mean ± std over all {} runs (raw and centred inputs; init = the untrained encoder at step 0): {}.",
            rows.len(),
            base.join(", ")
        );
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.error.is_empty()).collect();
    if !failed.is_empty() {
        let _ = writeln!(s, "\nDiverged runs ({}):\n", failed.len());
        for r in failed {
            let _ = writeln!(s, "- `{}`: {}", r.cfg.to_text(), r.error);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_and_digits() {
        assert_eq!(slug("cifar-nt-xent:tau=0.5"), "cifar-nt-xent-tau-0-5");
        assert_eq!(slug("A--b  ,c="), "a-b-c");
    }

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn grids_expand_lists_and_braces() {
        let g = Grid::parse(
            "# a grid\nlist acl = acl-direct:tau=0.5,p={2,4}\nloss = nt-xent:tau=0.5 | @acl\nbatch = 16 | 32\n",
        )
        .unwrap();
        assert_eq!(g.points(), 6);
        let runs = g.runs(2).unwrap();
        assert_eq!(runs.len(), 12);
        assert!(runs[2].to_text().contains("p=2") || runs[2].to_text().contains("nt-xent"));
        let j = Grid::parse(
            r#"{"loss": ["nt-xent", "@a"], "batch": 16, "lists": {"a": ["acl-direct:p={2,4}"]}}"#,
        )
        .unwrap();
        assert_eq!(j.points(), 3);
    }

    #[test]
    fn a_base_config_is_where_every_point_starts() {
        let g = Grid::parse("base = batch=32&seed=7&eval=5\nloss = nt-xent | infonce\n").unwrap();
        let runs = g.runs(2).unwrap();
        assert_eq!(runs.len(), 4);
        assert!(runs.iter().all(|c| c.batch == 32 && c.eval_every == 5));
        assert_eq!(
            runs.iter().map(|c| c.seed).collect::<Vec<_>>(),
            [1, 2, 1, 2]
        );
        assert!(
            Grid::parse("base = batch=1\n")
                .unwrap_err()
                .to_string()
                .contains("base")
        );
    }

    #[test]
    fn bad_grids_name_the_key() {
        let e = Grid::parse("colour = red\n").unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
        let e = format!("{:#}", Grid::parse("batch = 16 | 1\n").unwrap_err());
        assert!(e.contains("batch"), "{e}");
        assert!(Grid::parse("loss = @nope\n").is_err());
        assert!(Grid::parse("seed = 1 | 2\n").is_err());
    }
}
