//! Micro-benchmark of the loss engine: loss value + α + β + ∂L/∂y for one batch, in `f32`
//! (the training path), timed with `web_time` so it runs natively and in the browser.
//!
//! The standard size is 2B = 512 rows of d = 128 (the standard workload's embedding). Besides
//! the time per call, the report gives the two GEMM-sized products' FLOP count (Gram matrix
//! and max-player gradient: ≈ (5/8 + 1)·2·(2B)²·d with the blocked symmetric Gram) so the caller
//! can relate it to a training step.

use ndarray::Array2;
use serde_json::{Value, json};
use web_time::Instant;

use super::{Geometry, LossSpec, evaluate};
use crate::rng::Rng;

/// The losses of the standard benchmark workload.
pub const STANDARD_LOSSES: [&str; 2] = ["nt-xent:tau=0.5", "acl-direct:tau=0.5,p=4,eps=0"];

/// Times `f` until at least `min_seconds` have passed on `clock` (and at least 3 calls, after
/// one warm-up call). Returns (µs per call, calls).
fn time_it(min_seconds: f64, clock: &dyn Fn() -> f64, mut f: impl FnMut()) -> (f64, usize) {
    f();
    let start = clock();
    let mut calls = 0usize;
    loop {
        f();
        calls += 1;
        let t = clock() - start;
        // A coarse clock (e.g. CPU time updated at scheduler ticks) may not have advanced yet.
        if (calls >= 3 && t >= min_seconds && t > 0.0) || calls >= 10_000_000 {
            return (t * 1e6 / calls as f64, calls);
        }
    }
}

/// Benchmarks `evaluate::<f32>` (normalised rows) for each spec on a random batch of
/// 2·`pairs` rows × `dim` columns, for at least `min_seconds` per spec. An empty `specs` means
/// [`STANDARD_LOSSES`]. Returns JSON:
/// `{"bench": "loss", "rows", "dim", "float": "f32", "geometry_us", "results": [{"loss",
/// "us_per_call", "calls", "loss_value"}]}` (a spec that fails reports `"error"` instead).
pub fn loss_bench(specs: &[LossSpec], pairs: usize, dim: usize, min_seconds: f64) -> Value {
    let origin = Instant::now();
    loss_bench_with_clock(specs, pairs, dim, min_seconds, &|| {
        origin.elapsed().as_secs_f64()
    })
}

/// As [`loss_bench`], timed with `clock` (seconds, monotonic; e.g. the thread's CPU time, which
/// is what the single-threaded engine costs even when other processes share the cores).
pub fn loss_bench_with_clock(
    specs: &[LossSpec],
    pairs: usize,
    dim: usize,
    min_seconds: f64,
    clock: &dyn Fn() -> f64,
) -> Value {
    let pairs = pairs.max(2);
    let dim = dim.max(1);
    let rows = 2 * pairs;
    let mut rng = Rng::seed_from_u64(0xA1FA);
    let z = Array2::<f32>::from_shape_fn((rows, dim), |_| rng.normal() as f32);
    let standard: Vec<LossSpec>;
    let specs = if specs.is_empty() {
        standard = STANDARD_LOSSES
            .iter()
            .filter_map(|t| LossSpec::parse(t).ok())
            .collect();
        &standard[..]
    } else {
        specs
    };
    let (geometry_us, _) = time_it(min_seconds * 0.5, clock, || {
        let g = Geometry::new(z.view(), true);
        std::hint::black_box(&g);
    });
    let results: Vec<Value> = specs
        .iter()
        .map(|spec| match evaluate::<f32>(spec, z.view(), true) {
            Err(e) => json!({"loss": spec.to_text(), "error": e.to_string()}),
            Ok(out) => {
                let (us, calls) = time_it(min_seconds, clock, || {
                    let o = evaluate::<f32>(spec, z.view(), true);
                    std::hint::black_box(&o);
                });
                json!({
                    "loss": spec.to_text(),
                    "us_per_call": us,
                    "calls": calls,
                    "loss_value": out.loss,
                })
            }
        })
        .collect();
    let n = rows as f64;
    json!({
        "bench": "loss",
        "rows": rows,
        "dim": dim,
        "float": "f32",
        "gemm_mflop": 2.0 * n * n * dim as f64 * (1.0 + gram_fraction(rows)) / 1e6,
        "geometry_us": geometry_us,
        "results": results,
    })
}

/// Fraction of the full Gram product the blocked symmetric Gram computes.
fn gram_fraction(rows: usize) -> f64 {
    let b = super::geometry::GRAM_BLOCK;
    if rows <= b * 3 / 2 {
        return 1.0;
    }
    let mut work = 0usize;
    let mut r0 = 0;
    while r0 < rows {
        let r1 = (r0 + b).min(rows);
        work += (r1 - r0) * (rows - r0);
        r0 = r1;
    }
    work as f64 / (rows * rows) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_reports_every_spec() {
        let specs: Vec<LossSpec> = ["nt-xent:tau=0.5", "acl-quadratic:tau=0.1"]
            .iter()
            .map(|t| LossSpec::parse(t).unwrap())
            .collect();
        let v = loss_bench(&specs, 8, 4, 0.0);
        let r = v["results"].as_array().unwrap();
        assert_eq!(r.len(), 2);
        for x in r {
            assert!(x["us_per_call"].as_f64().unwrap() > 0.0, "{x}");
            assert!(x["calls"].as_u64().unwrap() >= 3);
        }
        assert_eq!(v["rows"], 16);
        assert!((gram_fraction(512) - 10.0 / 16.0).abs() < 1e-12);
    }
}
