# Shared helpers of the scripts in this folder; sourced, not run.

step() { printf '\n==> %s (at %dm%02ds)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

# The toolchain is pinned by rust-toolchain.toml; rustup installs it on first use.
ensure_rust() {
  if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust with rustup (https://rustup.rs) and run this again" >&2
    exit 1
  fi
}

# Debian packages the build (and, given as arguments, the tests) need; installed only when
# missing.
ensure_system_packages() {
  local missing=()
  for pkg in pkg-config libssl-dev "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null; then
    step "installing ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

# Clippy (`-D warnings`) as the compiler of our own crates: cargo runs clippy's driver for
# workspace members (RUSTC_WORKSPACE_WRAPPER), which lints and then compiles, so a test
# build is also the lint, and dependencies are compiled once rather than a second time in
# `cargo clippy`'s check mode (8 of a clean run's minutes, measured on 2 cores). The driver reads
# its arguments from CLIPPY_ARGS, as `cargo clippy` passes them; a canary proves it still
# does, or this fails rather than let lints go unchecked.
lint_while_building() {
  local driver canary
  driver=$(rustup which clippy-driver)
  export RUSTC_WORKSPACE_WRAPPER=$driver
  export CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
  canary=$(mktemp -d)
  printf 'pub fn empty(v: &[u8]) -> bool { v.len() == 0 }\n' >"$canary/lib.rs"
  if "$driver" rustc --crate-type lib --edition 2021 --emit metadata --out-dir "$canary" \
       "$canary/lib.rs" 2>/dev/null; then
    rm -rf "$canary"
    echo "clippy's driver no longer reads CLIPPY_ARGS: lint with cargo clippy instead" >&2
    exit 1
  fi
  rm -rf "$canary"
}

# The PostgreSQL half of the test suite needs a server on 127.0.0.1:5432.
ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
    return
  fi
  if command -v pg_ctlcluster >/dev/null; then
    step "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "PostgreSQL must listen on 127.0.0.1:5432 (trust auth, user postgres) for the tests;" \
         "set CERTUS_TEST_POSTGRES to use another server" >&2
    exit 1
  }
}

# The layers of decision 12, as Cargo sees them: the ledger core builds for the browser
# without std's I/O, and neither it nor the credential layer depends on a database, an HTTP
# server or (for the core) a runtime or an HTTP client.
check_layers() {
  cargo build --quiet -p certus-ledger --target wasm32-unknown-unknown
  local crate forbidden found
  for rule in "certus-ledger:tokio|sea-orm|sqlx|axum|reqwest" \
              "certus-credential:sea-orm|sqlx|axum|certus-server" \
              "certus-wallet:sea-orm|sqlx|axum|certus-server"; do
    crate=${rule%%:*}; forbidden=${rule#*:}
    found=$(cargo tree -p "$crate" -e normal --prefix none | grep -E "^($forbidden) v" | sort -u || true)
    if [ -n "$found" ]; then
      echo "$crate must not depend on: $found" >&2
      exit 1
    fi
  done
  echo "layers hold: certus-ledger (no_std, wasm32), certus-credential, certus-wallet"
}

# The web app is built into frontend/dist and served by the backend.
build_frontend() {
  ./scripts/build-frontend.sh
}

# What serving needs: the toolchain, the build's Debian packages and the web app.
prepare_serving() {
  ensure_rust
  ensure_system_packages
  build_frontend
}
