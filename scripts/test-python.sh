#!/usr/bin/env bash
# Tests of the PyTorch package (python/): conformance with the reference calculator for every
# catalogue loss, the two-process gloo test, error messages. Called by scripts/test.sh; runs
# alone too. Idempotent set-up:
#   - a virtual environment in .cache/py-venv (git-ignored) with torch and pytest from PyPI,
#     installed once (about 2 minutes and 5.3 GB: PyPI's Linux torch wheel pulls the CUDA
#     libraries, and torch does not import without them) and skipped while the stamp matches;
#   - the package itself, installed from ./python on every run (a few seconds);
#   - the release CLI (cargo build --release --bin alphacl), the oracle of the tests.
# Prints pytest's summary ("N passed, M failed in …"); exits non-zero when a test fails.
# `scripts/test-python.sh --setup-only` stops after the first two steps (the venv and the
# package; used by scripts/bench-pytorch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

TORCH_VERSION=2.15.0
PYTEST_VERSION=9.2.0
SETUPTOOLS_VERSION=84.2.1  # builds ./python without network (--no-build-isolation)
VENV=.cache/py-venv
STAMP="$VENV/.alphacl-installed"
WANT="torch==$TORCH_VERSION pytest==$PYTEST_VERSION setuptools==$SETUPTOOLS_VERSION"
say() { printf '\033[1;34m[python]\033[0m %s\n' "$*"; }

if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing python3 and python3-venv from Debian"
    if [[ $(id -u) == 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3 python3-venv
fi

venv_ok() {
    [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] &&
        "$VENV/bin/python" -W ignore -c 'import torch, pytest, setuptools' 2>/dev/null
}
if ! venv_ok; then
    say "setting up $VENV with $WANT from PyPI (about 2 minutes and 5.3 GB, once)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    ok=0
    for attempt in 1 2 3; do
        if "$VENV/bin/pip" install --quiet --no-cache-dir --progress-bar off "torch==$TORCH_VERSION" "pytest==$PYTEST_VERSION" "setuptools==$SETUPTOOLS_VERSION"; then
            ok=1
            break
        fi
        say "pip install failed (attempt $attempt of 3); retrying"
        sleep $((attempt * 10))
    done
    [[ $ok == 1 ]] || { echo "could not install torch and pytest from PyPI" >&2; exit 1; }
    "$VENV/bin/python" -W ignore -c 'import torch, pytest, setuptools'
    echo "$WANT" > "$STAMP"
fi

say "installing ./python into $VENV"
"$VENV/bin/pip" install --quiet --no-deps --no-build-isolation --force-reinstall ./python
# The tests import this installed copy (not the source tree): check it is importable from elsewhere.
py="$PWD/$VENV/bin/python"
(cd / && "$py" -W ignore -c 'import alphacl_torch, sys; f = alphacl_torch.__file__; sys.exit(0 if "site-packages" in f else f"alphacl_torch imported from {f}")')
if [[ "${1:-}" == --setup-only ]]; then exit 0; fi

say "building the reference calculator (cargo build --release --bin alphacl)"
cargo build --release --bin alphacl

say "pytest python/tests"
export ALPHACL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/alphacl"
cd python
# -p no:cacheprovider: nothing written into the source tree.
"../$VENV/bin/pytest" -q -p no:cacheprovider tests
