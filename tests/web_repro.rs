//! Reproducibility, wasm side: the fixed run of `train_repro.in` must give the first 20 losses
//! recorded natively. Run with
//! `cargo test --target wasm32-unknown-unknown --test web_repro` (Node), or with
//! `WASM_BINDGEN_USE_BROWSER=1` in headless Chromium.
//!
//! Tolerance: `WASM_TOL` relative. Native and wasm run the same f32 code but different GEMM
//! kernels (AVX2/FMA versus SIMD128 without fused multiply-add) and a different libm, so sums
//! are rounded differently; over 20 Adam steps this stays far below 1e-4.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

include!("train_repro.in");

/// Documented native-versus-wasm tolerance (relative, per loss value).
const WASM_TOL: f64 = 1e-4;

#[wasm_bindgen_test]
fn first_20_losses_match_the_native_constants() {
    let a = repro_losses();
    assert_eq!(a, repro_losses(), "deterministic within one target");
    let e = max_rel_err(&a, &REPRO_LOSSES);
    wasm_bindgen_test::console_log!("max relative difference to the native losses: {e:e}");
    assert!(e < WASM_TOL, "max relative error {e:e}; losses {a:?}");
}

#[wasm_bindgen_test]
fn cifar_preset_first_losses_match_the_native_constants() {
    let start = web_time::Instant::now();
    let a = cifar_repro_losses();
    // Informative only (speed is measured by the benchmarks): trainer set-up and 10 steps.
    wasm_bindgen_test::console_log!(
        "CIFAR preset: set-up + 10 steps in {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let e = max_rel_err(&a, &CIFAR_REPRO_LOSSES);
    wasm_bindgen_test::console_log!("CIFAR preset: max relative difference to native {e:e}");
    assert!(e < WASM_TOL, "max relative error {e:e}; losses {a:?}");
}
