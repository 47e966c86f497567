//! Reproducibility, native side: the fixed run of `train_repro.in` gives its recorded first 20
//! losses (within `NATIVE_TOL` relative), and the same numbers twice in one process (exactly).
//! `tests/web_repro.rs` checks the same constants in wasm32.

include!("train_repro.in");

/// Native tolerance: the constants were produced on this target; the slack only absorbs
/// summation-order changes inside the GEMM/loss kernels (different CPU kernels).
const NATIVE_TOL: f64 = 1e-4;

#[test]
fn first_20_losses_match_the_recorded_constants() {
    let a = repro_losses();
    println!("losses: {a:?}");
    assert_eq!(
        a,
        repro_losses(),
        "same config and seed must give bit-identical losses"
    );
    let e = max_rel_err(&a, &REPRO_LOSSES);
    assert!(
        e < NATIVE_TOL,
        "max relative error {e:e} against the recorded losses"
    );
}

#[test]
fn cifar_preset_first_losses_match_the_recorded_constants() {
    let a = cifar_repro_losses();
    println!("cifar preset losses: {a:?}");
    assert_eq!(a, cifar_repro_losses(), "bit-identical within one target");
    let e = max_rel_err(&a, &CIFAR_REPRO_LOSSES);
    assert!(
        e < NATIVE_TOL,
        "max relative error {e:e} against the recorded losses"
    );
}
