//! Issue 18, items 1 and 3: sizes the parsers accept but the machine cannot hold are refused
//! before anything is allocated, by real `alphacl` processes, with the estimate and the limit.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alphacl"))
}

/// Exit code 1 (an error, not a signal such as SIGABRT), quickly, with `want` on stderr.
fn assert_clean_refusal(o: &Output, took: Duration, want: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "status {:?}: {err}", o.status);
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    for w in want {
        assert!(err.contains(w), "missing '{w}' in: {err}");
    }
    err
}

#[test]
fn train_refuses_a_twenty_gigabyte_config_with_the_estimate_and_the_limit() {
    let t = Instant::now();
    let o = bin()
        .args(["train", "--quiet", "--steps", "1"])
        .args(["--set", "data=gauss:n=1000000,d=4096"])
        .output()
        .unwrap();
    let err = assert_clean_refusal(&o, t.elapsed(), &["needs", "GiB", "limit", "data"]);
    assert!(!err.contains("memory allocation"), "{err}");
}

#[test]
fn a_config_file_over_the_limit_is_refused_as_well() {
    let dir = std::env::temp_dir().join(format!("alphacl-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("big.txt");
    std::fs::write(
        &f,
        "data=gauss:n=1000000,d=2048&encoder=mlp:hidden=4096,out=4096",
    )
    .unwrap();
    let t = Instant::now();
    let o = bin()
        .args(["train", "--quiet", "--steps", "1", "--config"])
        .arg(&f)
        .output()
        .unwrap();
    assert_clean_refusal(&o, t.elapsed(), &["needs", "limit"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_lower_memory_limit_from_the_environment_is_obeyed() {
    // 40 000 × 512 floats of data alone are 100 MB: over a 64 MiB limit.
    let t = Instant::now();
    let o = bin()
        .env("ALPHACL_MEMORY_LIMIT", "64MiB")
        .args(["train", "--quiet", "--steps", "1"])
        .args(["--set", "data=gauss:n=40000,d=512"])
        .output()
        .unwrap();
    assert_clean_refusal(&o, t.elapsed(), &["needs", "64.0 MiB"]);
    let bad = bin()
        .env("ALPHACL_MEMORY_LIMIT", "lots")
        .args(["train", "--quiet", "--steps", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(err.contains("ALPHACL_MEMORY_LIMIT"), "{err}");
}

#[test]
fn loss_bench_with_a_hundred_thousand_pairs_is_refused_with_the_estimate() {
    let t = Instant::now();
    let o = bin()
        .args(["loss", "--bench", "--pairs", "100000", "--seconds", "0"])
        .output()
        .unwrap();
    assert_clean_refusal(&o, t.elapsed(), &["needs", "α", "limit"]);
}

#[test]
fn loss_on_a_large_csv_is_checked_before_computing_and_streams_below_the_limit() {
    let dir = std::env::temp_dir().join(format!("alphacl-budget-loss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("z.csv");
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "{},{},{}\n",
            (i % 7) as f64 + 0.5,
            (i % 3) as f64,
            1.0
        ));
    }
    std::fs::write(&f, &text).unwrap();
    // 2 000 rows: α alone is 4 × 2000² × 8 B = 128 MB, over a 32 MiB limit.
    let t = Instant::now();
    let o = bin()
        .env("ALPHACL_MEMORY_LIMIT", "32MiB")
        .args(["loss", "--json", "--loss", "nt-xent:tau=0.5", "--input"])
        .arg(&f)
        .output()
        .unwrap();
    assert_clean_refusal(&o, t.elapsed(), &["2000 rows", "needs", "32.0 MiB"]);
    // Within the limit the JSON is complete and valid.
    let o = bin()
        .args(["loss", "--json", "--loss", "nt-xent:tau=0.5", "--input"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["alpha"].as_array().unwrap().len(), 2000);
    assert_eq!(v["grad"][0].as_array().unwrap().len(), 3);
    assert!(v["loss"].as_f64().unwrap().is_finite());
    let _ = std::fs::remove_dir_all(&dir);
}
