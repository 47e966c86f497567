#!/usr/bin/env bash
# Minutes-long fuzzing of every parser and config path and the memory budget: the seeded suite
# of tests/fuzz_inputs.rs (which scripts/test.sh runs with 300 cases per test) with many more
# cases and a new seed each round, until the time is used.
#   scripts/fuzz.sh [MINUTES=5] [CASES=5000]
# A failure prints the seed; rerun it with ALPHACL_FUZZ_SEED=<seed> ALPHACL_FUZZ_CASES=<cases>
# cargo test --release --features app --test fuzz_inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
minutes=${1:-5}
cases=${2:-5000}
end=$(( $(date +%s) + minutes * 60 ))
cargo test --release --features app --test fuzz_inputs --no-run
seed=$(( $(date +%s) % 100000 ))
rounds=0
while (( $(date +%s) < end )); do
    echo "[fuzz] seed $seed, $cases cases per test"
    if ! ALPHACL_FUZZ_SEED=$seed ALPHACL_FUZZ_CASES=$cases \
        cargo test --release --features app --test fuzz_inputs -q 2>&1 | tail -20; then
        echo "[fuzz] FAILED with ALPHACL_FUZZ_SEED=$seed ALPHACL_FUZZ_CASES=$cases"
        exit 1
    fi
    seed=$((seed + 1)); rounds=$((rounds + 1))
done
echo "[fuzz] $rounds rounds, no failure"
