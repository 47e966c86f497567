#!/usr/bin/env bash
# The lab against PyTorch at equal training time on the CIFAR preset (a benchmark, not a test):
#
#   scripts/bench-pytorch.sh [MINUTES] [LOSS] [OPTIONS…]     defaults: 10, the preset's loss
#   scripts/bench-pytorch.sh 10 nt-xent:tau=0.5 --parallel   both engines at once, one core each
#
# Trains examples/cifar10-16px.txt (architecture, SimCLR augmentation, loss, Adam schedule,
# batch, seed) for MINUTES of training time (evaluations excluded) with the release CLI and
# with PyTorch on the CPU with 1 thread, on the same prepared file web/data/cifar10-16.bin, one
# after the other by default; prints steps, steps/s and the kNN curves at equal training time
# and at equal steps, and writes target/bench-pytorch/ (table.md, summary.json, curves.csv,
# lab/, torch/). OPTIONS go to python/examples/bench_vs_lab.py (--parallel, --checkpoints N,
# --out DIR, --lab-run DIR, --quiet, --config FILE).
#
# Idempotent set-up: the venv .cache/py-venv with torch from PyPI (scripts/test-python.sh
# --setup-only: once, about 2 minutes and 5.3 GB), the release CLI (built only when missing)
# and the prepared data (scripts/prepare-data.sh, only when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

MINUTES=10
LOSS=""
if [[ $# -gt 0 && "$1" != --* ]]; then MINUTES="$1"; shift; fi
if [[ $# -gt 0 && "$1" != --* ]]; then LOSS="$1"; shift; fi
say() { printf '\033[1;34m[bench-pytorch]\033[0m %s\n' "$*" >&2; }

scripts/test-python.sh --setup-only
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/alphacl"
if [[ ! -x "$BIN" ]]; then
    say "building the release CLI (cargo build --release --bin alphacl)"
    cargo build --release --bin alphacl
fi
[[ -f web/data/cifar10-16.bin ]] || scripts/prepare-data.sh 16

# One thread for torch (the script also calls torch.set_num_threads(1)).
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
args=(--minutes "$MINUTES" --lab --lab-bin "$BIN")
[[ -n "$LOSS" ]] && args+=(--loss "$LOSS")
say "$MINUTES min per engine${LOSS:+, loss $LOSS}"
exec .cache/py-venv/bin/python -W ignore python/examples/bench_vs_lab.py "${args[@]}" "$@"
