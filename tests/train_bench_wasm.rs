//! The standard benchmark workload in wasm32 (not a timing assertion: it prints the figures).
//! Run with `cargo test --release --target wasm32-unknown-unknown --test train_bench_wasm --
//! --nocapture` (Node) or with `WASM_BINDGEN_USE_BROWSER=1` (headless Chromium).
#![cfg(target_arch = "wasm32")]

use alphacl::train::bench::{STANDARD_LOSSES, standard_workload};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn standard_workload_runs_and_stays_finite() {
    for loss in STANDARD_LOSSES {
        let r = standard_workload(loss, 2, 20).expect("standard workload");
        wasm_bindgen_test::console_log!(
            "{}: {:.1} steps/s, {:.1} GFLOP/s (fwd {:.2} ms, loss {:.2} ms, bwd {:.2} ms, update {:.2} ms)",
            r.loss,
            r.steps_per_sec,
            r.gflops,
            r.ms_forward,
            r.ms_loss,
            r.ms_backward,
            r.ms_update
        );
        assert!(r.last_loss.is_finite() && r.steps_per_sec > 0.0);
    }
}
