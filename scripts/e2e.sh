#!/usr/bin/env bash
# Cross-implementation (and browser) tests against a real server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p certus-server
cd e2e
npm ci --no-audit --no-fund --loglevel=error
npm test
