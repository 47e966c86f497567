//! Issue 18, items 4 (CLI), 7, 8 and 9: `alphacl train --out` as real processes — the output
//! directory is checked before training, metrics.csv is written as the run goes, SIGINT
//! finishes the step and writes everything marked as interrupted, an existing run directory is
//! refused unless --force (and then replaced whole), a diverged run's weights.json holds the
//! last finite weights, and `--steps 0 --init-weights W` measures W.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alphacl"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("alphacl-out-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn train(out: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["train", "--quiet", "--eval-set", "subset", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn an_out_path_that_is_a_file_or_unwritable_fails_before_training() {
    let dir = temp_dir("file");
    let file = dir.join("taken.txt");
    std::fs::write(&file, "keep me").unwrap();
    for (out, want) in [(file.clone(), "is a file"), (file.join("sub"), "taken.txt")] {
        let t = Instant::now();
        let o = train(&out, &["--steps", "1000000"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{:?}: {err}",
            t.elapsed()
        );
        assert!(err.contains(want), "{out:?}: {err}");
        assert!(!err.contains("step 1"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_existing_run_directory_is_refused_unless_forced_and_then_replaced_whole() {
    let dir = temp_dir("force");
    let out = dir.join("run");
    let o = train(&out, &["--steps", "20"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(out.join("stale.png"), "from another run").unwrap();
    let before = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let o = train(&out, &["--steps", "30"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.csv")).unwrap(),
        before
    );
    assert!(out.join("stale.png").exists());
    let o = train(&out, &["--steps", "30", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !out.join("stale.png").exists(),
        "the old directory was not replaced whole"
    );
    assert_eq!(json(&out.join("run.json"))["steps"], 30);
    for f in [
        "metrics.csv",
        "run.json",
        "weights.json",
        "curves.png",
        "alpha.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // No temporary names are left behind, here or beside the directory.
    for d in [&out, &dir] {
        for e in std::fs::read_dir(d).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                !n.contains(".tmp") && !n.contains(".partial"),
                "{n} left in {d:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigint_finishes_the_step_and_writes_everything_marked_interrupted() {
    let dir = temp_dir("sigint");
    let out = dir.join("run");
    let child = bin()
        .args([
            "train",
            "--quiet",
            "--eval-set",
            "subset",
            "--minutes",
            "10",
            "--out",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // metrics.csv appears (and grows) while the run goes.
    let metrics = out.join("metrics.csv");
    let t = Instant::now();
    let rows = loop {
        let n = std::fs::read_to_string(&metrics).map_or(0, |s| s.lines().count());
        if n > 1 {
            break n;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no metrics.csv while training"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(rows > 1);
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let run = json(&out.join("run.json"));
    assert_eq!(run["interrupted"], true, "{run}");
    let steps = run["steps"].as_u64().unwrap() as usize;
    assert!(steps >= 1);
    let csv = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(
        csv.lines().count(),
        steps + 1,
        "every step is in metrics.csv"
    );
    let w = json(&out.join("weights.json"));
    assert_eq!(w["step"].as_u64().unwrap() as usize, steps);
    assert!(out.join("curves.svg").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_diverged_run_writes_the_last_finite_weights_labelled_as_such() {
    let dir = temp_dir("diverged");
    let out = dir.join("run");
    let o = train(
        &out,
        &[
            "--steps",
            "300",
            "--set",
            "normalize=0",
            "--set",
            "loss=nt-xent:tau=0.5",
            "--set",
            "optim=sgd:lr=100",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("non-finite"), "{err}");
    let w = json(&out.join("weights.json"));
    let note = w["note"].as_str().unwrap_or_default();
    assert!(note.contains("last finite"), "{note}");
    let max = w["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["data"].as_array().unwrap().iter())
        .map(|v| v.as_f64().expect("a finite number").abs())
        .fold(0.0, f64::max);
    assert!(max < 1e6, "weights blew up: {max}");
    let run = json(&out.join("run.json"));
    assert!(run["error"].as_str().unwrap().contains("non-finite"));
    assert_eq!(run["weights_step"], w["step"]);
    // The weights load back into a run.
    let o2 = bin()
        .args([
            "train",
            "--quiet",
            "--eval-set",
            "subset",
            "--steps",
            "0",
            "--init-weights",
        ])
        .arg(out.join("weights.json"))
        .args(["--set", "normalize=0"])
        .output()
        .unwrap();
    assert!(o2.status.success(), "{}", stderr(&o2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn zero_steps_with_init_weights_reports_the_accuracy_of_those_weights() {
    let dir = temp_dir("init");
    let a = dir.join("a");
    let o = train(&a, &["--steps", "300"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let trained = json(&a.join("run.json"))["final_knn_acc"].as_f64().unwrap();
    let b = dir.join("b");
    let o = bin()
        .args([
            "train",
            "--quiet",
            "--eval-set",
            "subset",
            "--steps",
            "0",
            "--out",
        ])
        .arg(&b)
        .arg("--init-weights")
        .arg(a.join("weights.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let run = json(&b.join("run.json"));
    assert_eq!(run["final_knn_acc"].as_f64().unwrap(), trained, "{run}");
    assert_eq!(run["evals"].as_array().unwrap().len(), 1, "{run}");
    let _ = std::fs::remove_dir_all(&dir);
}
