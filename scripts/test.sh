#!/usr/bin/env bash
# Runs every test of α-CL Lab: formatting, clippy (native + wasm32, warnings denied), native unit /
# property / integration / UI tests, wasm tests in Node, a release trunk build, and the browser
# end-to-end tests in headless Chromium. Installs whatever is missing first (scripts/setup.sh).
# Ends with one summary line "total: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
scripts/setup.sh --test

LOG_DIR=target/test-logs
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log
step() { printf '\n\033[1;34m[test]\033[0m %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native, library and CLI)"
cargo clippy --all-targets -- -D warnings
step "clippy (native, with the egui app)"
cargo clippy --all-targets --features app -- -D warnings
step "clippy (wasm32, app with the relaxed-SIMD kernel, as the browser build)"
# .clippy/wasm/clippy.toml bans std::time::{Instant, SystemTime}::now (they panic in the
# browser; web-time is the rule). Natively web_time re-exports them, so only this run uses it.
CLIPPY_CONF_DIR=.clippy/wasm cargo clippy --target wasm32-unknown-unknown --features app,wasm-relaxed-simd --lib --bins -- -D warnings

step "native tests (unit, property, integration, UI; tests/fuzz_inputs.rs is the seeded fuzz suite, scripts/fuzz.sh the long run)"
cargo test --features app 2>&1 | tee "$LOG_DIR/native.log"

step "PyTorch package (torch in .cache/py-venv; every loss against alphacl loss --json)"
py_rc=0
scripts/test-python.sh 2>&1 | tee "$LOG_DIR/python.log" || py_rc=$?

step "wasm tests (wasm-bindgen-test in Node)"
# Every wasm-only test file: tests/web_*.rs and tests/*_wasm.rs (e.g. train_bench_wasm).
wasm_tests=$(ls tests/web_*.rs tests/*_wasm.rs 2>/dev/null | xargs -rn1 basename | sed 's/\.rs$//')
for t in $wasm_tests; do
    cargo test --release --target wasm32-unknown-unknown --test "$t" 2>&1 | tee "$LOG_DIR/wasm-$t.log"
done

step "release build for the browser (trunk)"
trunk build --release --offline

step "browser end-to-end tests (headless Chromium)"
(cd tests/e2e && node --test --test-concurrency=1 ./*.test.mjs) 2>&1 | tee "$LOG_DIR/e2e.log"

# Summary over every runner.
passed=0; failed=0
for f in "$LOG_DIR"/native.log "$LOG_DIR"/wasm-*.log; do
    [[ -f "$f" ]] || continue
    while read -r p q; do passed=$((passed + p)); failed=$((failed + q)); done < <(
        sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$f")
done
e2e_pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOG_DIR/e2e.log" | tail -1)
e2e_fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOG_DIR/e2e.log" | tail -1)
passed=$((passed + ${e2e_pass:-0})); failed=$((failed + ${e2e_fail:-0}))
# pytest's closing line, e.g. "2 failed, 240 passed in 30.1s" (errors count as failures).
py_line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped|deselected)' "$LOG_DIR/python.log" | tail -1 || true)
py_pass=$(grep -Eo '[0-9]+ passed' <<<"$py_line" | grep -Eo '[0-9]+' || true)
py_fail=$(( $(grep -Eo '[0-9]+ (failed|errors?)' <<<"$py_line" | grep -Eo '[0-9]+' | paste -sd+ - || true) + 0 ))
if [[ $py_rc != 0 && $py_fail == 0 ]]; then py_fail=1; fi  # the set-up failed before pytest ran
passed=$((passed + ${py_pass:-0})); failed=$((failed + py_fail))
echo
echo "rust+wasm tests, ${py_pass:-0} python tests and ${e2e_pass:-0} browser tests; logs in $LOG_DIR"
echo "total: $passed passed, $failed failed"
[[ $failed == 0 ]]
