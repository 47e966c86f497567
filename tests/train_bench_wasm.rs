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
        wasm_bindgen_test::console_log!("{}", r.summary());
        assert!(r.last_loss.is_finite() && r.steps_per_sec > 0.0);
    }
}
