//! The reference calculator `alphacl loss`: its JSON equals the library's f64 result, and bad
//! inputs give errors that say what is wrong and where.

mod loss_common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use alphacl::loss::{LossSpec, evaluate};
use loss_common::batch;
use ndarray::Array2;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alphacl"))
}

fn temp_csv(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("alphacl-loss-{}-{name}.csv", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn to_csv(y: &Array2<f64>, sep: &str) -> String {
    let mut s = String::from("# two views of each sample: rows k and k+B are partners\n");
    for r in y.rows() {
        let cells: Vec<String> = r.iter().map(|v| format!("{v:e}")).collect();
        s.push_str(&cells.join(sep));
        s.push('\n');
    }
    s
}

fn run_file(name: &str, text: &str, extra: &[&str]) -> Output {
    let path = temp_csv(name, text);
    let out = bin()
        .args(["loss", "--input"])
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    out
}

fn json_matrix(v: &serde_json::Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let n = rows.len();
    let d = rows[0].len();
    Array2::from_shape_vec((n, d), rows.into_iter().flatten().collect()).unwrap()
}

fn check_against_library(v: &serde_json::Value, y: &Array2<f64>, spec: &str, normalize: bool) {
    let want = evaluate::<f64>(&LossSpec::parse(spec).unwrap(), y.view(), normalize).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "exactly loss, grad, alpha, beta: {keys:?}");
    assert!((v["loss"].as_f64().unwrap() - want.loss).abs() <= 1e-14 * want.loss.abs().max(1.0));
    let close = |a: &Array2<f64>, b: &Array2<f64>| {
        a.dim() == b.dim()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-14 * y.abs().max(1.0))
    };
    assert!(close(&json_matrix(&v["grad"]), &want.grad), "{spec}: grad");
    assert!(
        close(&json_matrix(&v["alpha"]), &want.alpha),
        "{spec}: alpha"
    );
    let beta: Vec<f64> = v["beta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(beta.len(), y.nrows());
    for (b, w) in beta.iter().zip(want.beta.iter()) {
        assert!((b - w).abs() <= 1e-14 * w.abs().max(1.0));
    }
}

#[test]
fn json_output_matches_the_library() {
    // The CSV holds the values in `{:e}` form, which round-trips f64 exactly.
    let y = batch(3, 4, 31, 2.0);
    for (spec, sep, normalize) in [
        ("nt-xent:tau=0.5", ",", true),
        ("acl-direct:tau=0.5,p=4,eps=0", " ", true),
        ("acl-quadratic:tau=0.1", "\t", false),
        ("triplet:eps=0.1", ", ", false),
    ] {
        let mut args = vec!["--loss", spec, "--json"];
        if !normalize {
            args.push("--no-normalize");
        }
        let out = run_file("ok", &to_csv(&y, sep), &args);
        assert!(
            out.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        check_against_library(&v, &y, spec, normalize);
    }
}

#[test]
fn stdin_input_and_readable_output() {
    let y = batch(2, 3, 32, 1.0);
    let mut child = bin()
        .args([
            "loss",
            "--stdin",
            "--loss",
            "infonce:tau=0.2,eps=1",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(to_csv(&y, ",").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_against_library(&v, &y, "infonce:tau=0.2,eps=1", true);
    // Without --json: a readable summary that shows the loss value.
    let out = run_file(
        "text",
        &to_csv(&y, ","),
        &["--loss", "infonce:tau=0.2,eps=1"],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let want = v["loss"].as_f64().unwrap();
    assert!(
        text.contains("value") && text.contains(&format!("{want}")),
        "{text}"
    );
}

fn expect_error(name: &str, text: &str, extra: &[&str], needles: &[&str]) {
    let mut args = vec!["--loss", "nt-xent:tau=0.5", "--json"];
    args.extend_from_slice(extra);
    let out = run_file(name, text, &args);
    assert!(!out.status.success(), "{name}: should fail");
    assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(
            err.contains(n),
            "{name}: error should mention '{n}':\n{err}"
        );
    }
}

#[test]
fn bad_embeddings_give_clear_errors() {
    expect_error("odd", "1,0\n0,1\n1,1\n", &[], &["3 rows", "even"]);
    expect_error("two", "1,0\n0,1\n", &[], &["2 rows", "at least 4"]);
    expect_error("empty", "# nothing\n\n", &[], &["no embeddings"]);
    expect_error(
        "ragged",
        "1,0\n0,1\n1,1,2\n1,2\n",
        &[],
        &["line 3", "3 values", "line 1 has 2"],
    );
    expect_error(
        "nonnum",
        "1,0\n0,1\n# c\n1,abc\n1,2\n2,1\n",
        &[],
        &["line 4", "'abc' is not a number"],
    );
    expect_error("nan", "1,0\n0,NaN\n1,1\n1,2\n", &[], &["line 2", "finite"]);
    expect_error("inf", "1,0\n0,1\ninf,1\n1,2\n", &[], &["line 3", "finite"]);
    expect_error(
        "zero",
        "1,0\n0,1\n\n0,0\n1,2\n",
        &[],
        &["line 4", "zero norm", "--no-normalize"],
    );
    // The same zero row is fine without normalisation.
    let out = run_file(
        "zero-raw",
        "1,0\n0,1\n0,0\n1,2\n",
        &["--loss", "nt-xent", "--json", "--no-normalize"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_specs_and_files_give_clear_errors() {
    // Unknown spec, bad value, missing file.
    let ok = "1,0\n0,1\n1,1\n1,2\n";
    let out = run_file("spec", ok, &["--loss", "infonse"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("unknown loss") && err.contains("acl-direct"),
        "{err}"
    );
    let out = run_file("spec2", ok, &["--loss", "acl-direct:tau=-1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("tau") && err.contains("> 0"),
        "{err}"
    );
    // Missing file.
    let out = bin()
        .args(["loss", "--input", "/nonexistent/z.csv", "--loss", "nt-xent"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/z.csv"));
}

#[test]
fn bench_flag_times_every_requested_loss() {
    let out = bin()
        .args([
            "loss",
            "--bench",
            "--pairs",
            "4",
            "--dim",
            "3",
            "--seconds",
            "0",
        ])
        .args([
            "--loss",
            "nt-xent",
            "--loss",
            "acl-quadratic:tau=0.1",
            "--loss",
            "lifted",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"], 8);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|x| x["us_per_call"].as_f64().unwrap() > 0.0));
    // Without --bench exactly one loss is required.
    let out = run_file(
        "two-specs",
        "1,0\n0,1\n1,1\n1,2\n",
        &["--loss", "nt-xent", "--loss", "mine"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly one --loss"));
}
