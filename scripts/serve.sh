#!/usr/bin/env bash
# Builds α-CL Lab for the browser and serves it on http://127.0.0.1:8080 (or $PORT).
# Installs whatever is missing first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
PORT="${PORT:-8080}"
echo "[serve] building (release, wasm32 + SIMD128)…"
trunk build --release --offline
echo "[serve] α-CL Lab at http://127.0.0.1:$PORT/  (Ctrl-C stops)"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory dist
