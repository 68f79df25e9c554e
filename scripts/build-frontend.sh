#!/usr/bin/env bash
# Builds the web app into frontend/dist: the Leptos crate for wasm32, then wasm-bindgen.
# Installs the wasm32 target and the matching wasm-bindgen-cli on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' frontend/Cargo.toml)
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$version" ]; then
  echo "installing wasm-bindgen-cli $version (once)"
  # A tool, not our code: never linted (see lint_while_building in lib.sh).
  env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
    cargo install --quiet wasm-bindgen-cli --version "$version"
fi
cargo build --quiet --release --target wasm32-unknown-unknown \
  --manifest-path frontend/Cargo.toml --target-dir "$root/target"
rm -rf frontend/dist && mkdir -p frontend/dist
wasm-bindgen --target web --no-typescript --out-name certus_frontend --out-dir frontend/dist \
  "$root/target/wasm32-unknown-unknown/release/certus-frontend.wasm"
cp frontend/index.html frontend/boot.js frontend/style.css frontend/favicon.svg frontend/dist/
echo "web app built in frontend/dist ($(du -sh frontend/dist | cut -f1))"
