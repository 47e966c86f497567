//! `alphacl theory … --json` prints one JSON object with a per-seed array and a summary.

use std::process::Command;

fn run_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_alphacl"))
        .args(args)
        .output()
        .expect("the alphacl binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn deep_linear_json_has_seeds_and_summary() {
    let v = run_json(&["theory", "deep-linear", "--seeds", "3", "--json"]);
    let seeds = v["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 3);
    let s = &v["summary"];
    let frac = s["fraction_global"].as_f64().unwrap();
    // The summary is the mean of the per-seed flags.
    let flags = seeds
        .iter()
        .filter(|x| x["reached_global"].as_bool().unwrap())
        .count();
    assert!((frac - flags as f64 / 3.0).abs() < 1e-12);
    assert!(s["mean_energy_ratio"].as_f64().unwrap() <= 1.0 + 1e-9);
    assert!(s["mean_effective_rank"].as_f64().unwrap() >= 1.0 - 1e-9);
    assert!(s["mean_abs_cos_top_eig"].as_f64().unwrap() <= 1.0 + 1e-9);
}

#[test]
fn relu2_json_has_both_ranks_and_bad_options_fail() {
    let v = run_json(&[
        "theory", "relu2", "--seeds", "2", "--steps", "200", "--json",
    ]);
    assert_eq!(v["seeds"].as_array().unwrap().len(), 2);
    let r = v["summary"]["mean_effective_rank_relu"].as_f64().unwrap();
    let l = v["summary"]["mean_effective_rank_linear"].as_f64().unwrap();
    assert!(r > l, "ReLU {r} vs linear {l}");
    let bad = Command::new(env!("CARGO_BIN_EXE_alphacl"))
        .args(["theory", "relu2", "--norm", "rows"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("row"));
}
