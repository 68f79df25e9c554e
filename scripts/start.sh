#!/usr/bin/env bash
# Builds what is needed and starts Certus on the embedded default (SQLite in ./data),
# listening on 127.0.0.1:8080 unless CERTUS_ADDR or --addr says otherwise.
# Extra arguments go to `certus serve`, e.g. ./scripts/start.sh --addr 127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
prepare_serving
# Freed memory goes back to the OS at once (docs/performance.md: peak RSS 165 -> 140 MB).
export MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-0}
exec cargo run --quiet -p certus-server -- serve "$@"
