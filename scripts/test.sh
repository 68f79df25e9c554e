#!/usr/bin/env bash
# Runs every test: formatting and lints, unit, integration (SQLite and PostgreSQL) and
# known-answer tests, the fuzz targets' smoke run, the cross-implementation checks in e2e/,
# and schemathesis against the served OpenAPI document.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
ensure_system_packages chromium softhsm2 iproute2
# The partition test builds hosts in network namespaces; here it must, not skip.
export CERTUS_REQUIRE_NETNS=1
ensure_postgres

step "formatting"
cargo fmt --all -- --check
cargo fmt --manifest-path frontend/Cargo.toml -- --check
# From here on every build of our own crates — host and wasm — is linted as it compiles.
lint_while_building
step "clippy, while building every target"
cargo test --workspace --all-targets --no-run --quiet
step "unit, integration and known-answer tests (SQLite and PostgreSQL)"
cargo test --workspace
step "frontend (clippy, while building it)"
build_frontend
step "layers (decision 12)"
check_layers
step "interoperability with independent implementations (e2e/)"
./scripts/e2e.sh
step "the API contract (schemathesis against the served OpenAPI document)"
./scripts/contract.sh
