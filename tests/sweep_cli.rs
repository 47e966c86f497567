//! `alphacl sweep`: a grid × seeds of toy runs gives a tidy results.csv and a Markdown table;
//! a killed sweep resumes without redoing finished runs; bad grids are refused before anything
//! runs; the same grid and seeds give the same results up to the timings.

use alphacl::train::config::CONFIG_KEYS;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alphacl"))
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("alphacl-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Three grid points (nt-xent and acl-direct with p = 2, 4 through a named list and braces)
/// on a tiny Gaussian mixture.
const GRID: &str = "\
# toy grid: 3 points
data = gauss:k=3,d=4,n=128
batch = 16
eval = 10
list acl = acl-direct:tau=0.5,p={2,4}
loss = nt-xent:tau=0.5 | @acl
";

fn write_grid(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("grid.txt");
    std::fs::write(&p, text).unwrap();
    p
}

fn sweep(grid: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("sweep")
        .arg("--grid")
        .arg(grid)
        .arg("--out")
        .arg(out)
        .args(["--seeds", "2", "--quiet"])
        .args(extra)
        .output()
        .expect("the alphacl binary runs")
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The finished run directories (not the temporary ones).
fn run_dirs(out: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(out.join("runs")) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// Splits a CSV line, keeping quoted cells (which hold commas) whole.
fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// The numeric columns every run of the tiny grid fills.
const NUMERIC: &[&str] = &[
    "final_knn",
    "best_knn",
    "final_probe",
    "effective_rank",
    "alignment",
    "uniformity",
    "steps_per_sec",
    "wall_seconds",
];

#[test]
fn a_tiny_grid_gives_a_well_formed_csv_and_table_and_report_rebuilds_them() {
    let dir = temp_dir("tiny");
    let out = dir.join("out");
    assert_ok(&sweep(&write_grid(&dir, GRID), &out, &["--steps", "20"]));
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 7, "{csv}");
    let head = cells(lines[0]);
    for col in CONFIG_KEYS.iter().chain(NUMERIC) {
        assert!(head.iter().any(|h| h == col), "no column {col} in {head:?}");
    }
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let mut losses = std::collections::BTreeSet::new();
    let mut seeds = std::collections::BTreeSet::new();
    for l in &lines[1..] {
        let c = cells(l);
        assert_eq!(c.len(), head.len(), "{l}");
        for name in NUMERIC {
            let v: f64 = c[col(name)]
                .parse()
                .unwrap_or_else(|_| panic!("{name} in {l}"));
            assert!(v.is_finite(), "{name} = {v}");
        }
        let knn: f64 = c[col("final_knn")].parse().unwrap();
        assert!((0.0..=1.0).contains(&knn));
        assert_eq!(c[col("steps")], "20");
        assert_eq!(c[col("data")], "gauss:k=3,d=4,n=128,sep=4,std=1.2");
        losses.insert(c[col("loss")].clone());
        seeds.insert(c[col("seed")].clone());
    }
    assert_eq!(losses.len(), 3, "{losses:?}");
    assert_eq!(seeds.len(), 2, "{seeds:?}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    let rows = table_rows(&md);
    assert_eq!(rows.len(), 3, "{md}");
    assert!(rows.iter().all(|r| r.contains(" ± ")), "{md}");
    assert!(md.contains("| loss | n | kNN |"), "{md}");
    // --report rebuilds both from the stored runs.
    std::fs::remove_file(out.join("results.csv")).unwrap();
    std::fs::remove_file(out.join("results.md")).unwrap();
    let o = bin()
        .arg("sweep")
        .arg("--report")
        .arg(&out)
        .output()
        .unwrap();
    assert_ok(&o);
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv")).unwrap(),
        csv
    );
    assert_eq!(std::fs::read_to_string(out.join("results.md")).unwrap(), md);
}

/// The data rows of the first table of results.md (the results; the Theorem 1 table follows).
fn table_rows(md: &str) -> Vec<&str> {
    md.lines()
        .skip_while(|l| !l.starts_with("| loss"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect()
}

/// The `created` field of each finished run.
fn created(dirs: &[PathBuf]) -> Vec<(PathBuf, f64)> {
    dirs.iter()
        .map(|d| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("run.json")).unwrap())
                    .unwrap();
            (d.clone(), v["created"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn a_killed_sweep_resumes_without_redoing_finished_runs() {
    let dir = temp_dir("kill");
    let out = dir.join("out");
    let grid = write_grid(&dir, GRID);
    // One run at a time, long enough to be caught between two runs.
    let args = ["--steps", "1500", "--jobs", "1"];
    let mut child = bin()
        .arg("sweep")
        .arg("--grid")
        .arg(&grid)
        .arg("--out")
        .arg(&out)
        .args(["--seeds", "2", "--quiet"])
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while run_dirs(&out).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(60), "no run finished");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = created(&run_dirs(&out));
    assert!(
        !before.is_empty() && before.len() < 6,
        "{} runs finished before the kill",
        before.len()
    );
    for (d, _) in &before {
        assert!(d.join("metrics.csv").exists() && d.join("run.json").exists());
    }
    let o = sweep(&grid, &out, &args);
    assert_ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{} already done", before.len())),
        "{err}"
    );
    let after = created(&run_dirs(&out));
    assert_eq!(after.len(), 6);
    for (d, c) in &before {
        let same = after
            .iter()
            .find(|(a, _)| a == d)
            .expect("finished run kept");
        assert_eq!(same.1, *c, "{} was trained again", d.display());
    }
    let temps: Vec<String> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
}

#[test]
fn bad_grids_are_refused_before_anything_runs_with_the_key_named() {
    for (name, text, key) in [
        (
            "unknown",
            "data = gauss:k=3,d=4,n=128\ncolour = red | blue\n",
            "colour",
        ),
        (
            "value",
            "data = gauss:k=3,d=4,n=128\nbatch = 16 | 1\n",
            "batch",
        ),
        ("spec", "loss = nt-xent:tau=0.5 | nt-xent:tua=0.5\n", "loss"),
    ] {
        let dir = temp_dir(name);
        let out = dir.join("out");
        let o = sweep(&write_grid(&dir, text), &out, &["--steps", "20"]);
        assert!(!o.status.success(), "{name}: accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(key), "{name}: {err}");
        assert!(run_dirs(&out).is_empty(), "{name}: runs were written");
        assert!(!out.join("runs").exists(), "{name}: output was created");
    }
}

/// results.csv without its timing columns (the last three).
fn untimed(csv: &str) -> Vec<String> {
    csv.lines()
        .map(|l| l.rsplitn(4, ',').last().unwrap().to_string())
        .collect()
}

#[test]
fn the_same_grid_and_seeds_give_the_same_results() {
    let dir = temp_dir("repeat");
    let grid = write_grid(&dir, GRID);
    let (a, b) = (dir.join("a"), dir.join("b"));
    assert_ok(&sweep(&grid, &a, &["--steps", "30"]));
    assert_ok(&sweep(&grid, &b, &["--steps", "30", "--jobs", "1"]));
    let ca = std::fs::read_to_string(a.join("results.csv")).unwrap();
    let cb = std::fs::read_to_string(b.join("results.csv")).unwrap();
    assert!(
        ca.lines()
            .next()
            .unwrap()
            .ends_with("steps_per_sec,train_seconds,wall_seconds")
    );
    assert_eq!(untimed(&ca), untimed(&cb));
}

/// nt-xent at three τ: enough values for a sensitivity figure.
const TAU_GRID: &str = "\
data = gauss:k=3,d=4,n=128
batch = 16
eval = 10
loss = nt-xent:tau={0.2,0.5,1} | acl-direct:tau=0.5,p=4,eps=0
";

#[test]
fn report_draws_sensitivity_figures_links_runs_and_checks_theorem1() {
    let dir = temp_dir("figures");
    let out = dir.join("out");
    assert_ok(&sweep(
        &write_grid(&dir, TAU_GRID),
        &out,
        &["--steps", "10"],
    ));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    // τ takes three values for nt-xent: one figure, PNG and SVG; p takes one value: none.
    let png = std::fs::read(out.join("sensitivity-tau.png")).unwrap();
    let info = png::Decoder::new(png.as_slice()).read_info().unwrap();
    assert_eq!((info.info().width, info.info().height), (1800, 660));
    let svg = std::fs::read_to_string(out.join("sensitivity-tau.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("nt-xent") && svg.contains("2 seeds"));
    assert!(!out.join("sensitivity-p.svg").exists());
    assert!(
        md.contains("![sensitivity-tau](sensitivity-tau.svg)"),
        "{md}"
    );
    // Every row links to the lab with its seed-1 run; rows after the first are paired deltas.
    let rows = table_rows(&md);
    assert_eq!(rows.len(), 4, "{md}");
    for r in &rows {
        assert!(
            r.contains("[open](http://127.0.0.1:8080/#data=gauss:") && r.contains("&seed=1&"),
            "{r}"
        );
    }
    assert!(rows[0].contains("| ref. | ref. |"), "{}", rows[0]);
    assert!(rows[1].contains(" ± "), "{}", rows[1]);
    // Theorem 1 holds for both losses in f64.
    assert!(md.contains("| `nt-xent:tau=0.5` | 1 | "), "{md}");
    let line = md
        .lines()
        .find(|l| l.starts_with("Max over the 4 losses"))
        .unwrap();
    let worst: f64 = line.split_whitespace().nth(7).unwrap().parse().unwrap();
    assert!(worst < 1e-8, "{line}");
    // --app changes the links' base.
    let o = bin()
        .args(["sweep", "--report"])
        .arg(&out)
        .args(["--app", "https://lab.example/", "--anchors", "toy"])
        .output()
        .unwrap();
    assert_ok(&o);
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("[open](https://lab.example/#data="), "{md}");
    // --anchors gives each row an id made of its varying values.
    let rows = table_rows(&md);
    assert!(
        rows[0].starts_with("| <a id=\"toy-nt-xent-tau-0-2\"></a>`nt-xent:tau=0.2`"),
        "{}",
        rows[0]
    );
    // Baselines of the same protocol are listed under the table.
    assert!(md.contains("Baselines under the same protocol"), "{md}");
    assert!(md.contains("init kNN"), "{md}");
}
