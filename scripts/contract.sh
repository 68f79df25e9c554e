#!/usr/bin/env bash
# The API contract, tested from outside: schemathesis (from PyPI, pinned in
# e2e/contract/requirements.txt) generates requests for every operation of the OpenAPI
# document a fresh server serves — the OpenID4VC endpoints included — and checks every
# answer against it: no server error, and every status code, header, content type and
# body as documented. Any failure fails the run.
#
#   CONTRACT_EXAMPLES=N  examples per operation (default 50)
#   CONTRACT_SEED=N      hypothesis seed (default fixed, so a failure reproduces)
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
venv=$target/schemathesis
if ! cmp -s e2e/contract/requirements.txt "$venv/requirements.txt" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r e2e/contract/requirements.txt
  cp e2e/contract/requirements.txt "$venv/requirements.txt"
fi

cargo build --quiet -p certus-server
bin=$target/debug/certus
data=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
export CERTUS_DATA_DIR=$data RUST_LOG=error
unset DATABASE_URL

key=$("$bin" api-key create --scopes issue,verify,status,read,privacy,types,trust --label contract)
"$bin" serve --addr 127.0.0.1:0 > "$data/out" &
pid=$!
base=
for _ in $(seq 300); do
  base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$data/out" | head -n1 || true)
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "certus exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "certus did not start within 30 s" >&2; exit 1; }

SCHEMATHESIS_HOOKS=hooks PYTHONPATH=e2e/contract "$venv/bin/st" run "$base/api-docs/openapi.json" \
  --experimental=openapi-3.1 --checks all \
  --header "Authorization: Bearer $key" \
  --hypothesis-max-examples "${CONTRACT_EXAMPLES:-50}" \
  --hypothesis-seed "${CONTRACT_SEED:-19}" --hypothesis-database none \
  --no-color --show-trace
