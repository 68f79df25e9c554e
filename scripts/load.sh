#!/usr/bin/env bash
# HTTP load test on loopback: a release server on SQLite (or DATABASE_URL), and wrk issuing
# vc+jwt credentials for a fixed time. Stops by itself. Usage: ./scripts/load.sh [seconds]
# CERTUS_BIN=path/to/certus measures that build instead (to compare two commits alternately).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_system_packages wrk sqlite3
seconds=${1:-15}
if [ -z "${CERTUS_BIN:-}" ]; then
  cargo build --quiet --release -p certus-server
  CERTUS_BIN=./target/release/certus
fi
data=$(mktemp -d)
export CERTUS_DATA_DIR=$data RUST_LOG=warn
export CERTUS_TOKEN=$("$CERTUS_BIN" api-key create --scopes issue,verify)
"$CERTUS_BIN" serve --addr 127.0.0.1:18080 >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/ready >/dev/null && break; sleep 0.1; done
# The institution is a KYC desk: the root authority accredits its issuer DIDs for KYC.
root=$("$CERTUS_BIN" api-key create --scopes trust)
curl -sf http://127.0.0.1:18080/trust/schemas -H "Authorization: Bearer $root" \
  -H 'Content-Type: application/json' -d '{"type": "KycCredential"}' >/dev/null
for did in $(curl -sf http://127.0.0.1:18080/issuers -H "Authorization: Bearer $CERTUS_TOKEN" | grep -o 'did:key:[A-Za-z0-9]*'); do
  curl -sf http://127.0.0.1:18080/trust/accreditations -H "Authorization: Bearer $root" \
    -H 'Content-Type: application/json' -d '{"subject": "'$did'", "credentialTypes": ["KycCredential"]}' >/dev/null
done
wrk -t2 -c32 -d"${seconds}s" --latency -s e2e/load/issue.lua http://127.0.0.1:18080/credentials/issue
count=$(sqlite3 "$data/certus.db" 'select count(*) from issued_credentials' 2>/dev/null || echo "?")
echo "credentials recorded in the database: $count"
# Every recorded credential is anchored within a block interval or two of the last request.
sleep 2
anchored=$(sqlite3 "$data/certus.db" 'select count(*) from ledger_transactions where kind = 1' 2>/dev/null || echo "?")
blocks=$(sqlite3 "$data/certus.db" 'select count(*) - 1 from ledger_blocks' 2>/dev/null || echo "?")
echo "credentials anchored on the chain 2 s later: $anchored, in $blocks blocks"
"$CERTUS_BIN" chain verify 2>/dev/null
