#!/usr/bin/env bash
# HTTP load test on loopback: a release server and wrk, for a fixed time; stops by itself.
#
#   ./scripts/load.sh [--db sqlite|postgres] [--seconds 15] [--connections 16]
#                     [--endpoint issue|verify] [--format vc+jwt|ldp_vc] [--until N]
#                     [--compare digitalbazaar]
#
# --db        the server's database: SQLite in a fresh data folder (default), or a fresh
#             database on the PostgreSQL server of $CERTUS_LOAD_POSTGRES (default
#             postgres://postgres@127.0.0.1:5432), dropped afterwards.
# --endpoint  issue: POST /credentials/issue (a KYC credential of the accredited
#             institution, personal data sealed in the vault, status entries, anchor, audit);
#             verify: POST /credentials/verify of one such credential, every check.
# --until N   rounds of --seconds each until the store holds N credentials, one line per
#             round (rate, store size): how the rate holds as the store grows.
# --compare digitalbazaar
#             Data Integrity issuance (implies --format ldp_vc) measured alternately against
#             a VC API issuer built on Digital Bazaar's libraries (e2e/load/
#             digitalbazaar-issuer.mjs, on the same cores): two rounds each, and the ratio.
# CERTUS_BIN=path/to/certus measures that build instead (to compare two commits alternately).
#
# Prints requests per second, latency p50/p90/p99, the server's peak RSS, its cold start
# time and the bytes stored per credential.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_system_packages wrk sqlite3 postgresql-client

db=sqlite seconds=15 connections=16 endpoint=issue format=vc+jwt until=0 compare=
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --endpoint) endpoint=$2; shift 2 ;;
    --format) format=$2; shift 2 ;;
    --until) until=$2; shift 2 ;;
    --compare) compare=$2; shift 2 ;;
    [0-9]*) seconds=$1; shift ;;  # the former usage: ./scripts/load.sh 15
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done

case "$compare" in
  "") ;;
  digitalbazaar) endpoint=issue format=ldp_vc
    (cd e2e && npm ci --no-audit --no-fund --loglevel=error) ;;
  *) echo "--compare digitalbazaar" >&2; exit 2 ;;
esac

if [ -z "${CERTUS_BIN:-}" ]; then
  cargo build --quiet --release -p certus-server
  CERTUS_BIN=./target/release/certus
fi
data=$(mktemp -d)
pg_server=${CERTUS_LOAD_POSTGRES:-postgres://postgres@127.0.0.1:5432}
pg_db=""
case "$db" in
  sqlite) ;;
  postgres)
    pg_db=certus_load_$$
    psql -q "$pg_server/postgres" -c "CREATE DATABASE $pg_db"
    export DATABASE_URL=$pg_server/$pg_db ;;
  *) echo "--db sqlite or --db postgres" >&2; exit 2 ;;
esac
export CERTUS_DATA_DIR=$data RUST_LOG=warn CERTUS_VERIFY_RATE=1000000 CERTUS_LOAD_FORMAT=$format
# As scripts/start.sh and the container image run the server.
export MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-0}
server="" yardstick=""
# Every step runs whatever the one before it returned (a killed process's `wait` fails).
cleanup() {
  set +e
  for pid in $yardstick $server; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  [ -n "$pg_db" ] && psql -q "$pg_server/postgres" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
  rm -rf "$data"
}
trap cleanup EXIT
export CERTUS_TOKEN=$("$CERTUS_BIN" api-key create --scopes issue,verify)
root=$("$CERTUS_BIN" api-key create --scopes trust)

started=$(date +%s%N)
"$CERTUS_BIN" serve --addr 127.0.0.1:18080 >/dev/null &
server=$!
until curl -sf http://127.0.0.1:18080/ready >/dev/null; do sleep 0.01; done
echo "cold start (spawn to ready, $db): $(( ($(date +%s%N) - started) / 1000000 )) ms"

api() { curl -sf "http://127.0.0.1:18080$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' "${@:3}"; }
# The institution is a KYC desk: the root authority accredits its issuer DIDs for KYC.
api /trust/schemas "$root" -d '{"type": "KycCredential"}' >/dev/null
for did in $(api /issuers "$CERTUS_TOKEN" | grep -o 'did:key:[A-Za-z0-9]*'); do
  api /trust/accreditations "$root" -d '{"subject": "'"$did"'", "credentialTypes": ["KycCredential"]}' >/dev/null
done

stored() {
  if [ "$db" = sqlite ]; then sqlite3 "$data/certus.db" 'select count(*) from issued_credentials'
  else psql -tAq "$DATABASE_URL" -c 'select count(*) from issued_credentials'; fi
}
store_bytes() {
  if [ "$db" = sqlite ]; then
    sqlite3 "$data/certus.db" 'pragma wal_checkpoint(truncate)' >/dev/null
    stat -c %s "$data/certus.db"
  else psql -tAq "$DATABASE_URL" -c "select pg_database_size('$pg_db')"; fi
}

script=e2e/load/issue.lua url=http://127.0.0.1:18080/credentials/issue
if [ "$endpoint" = verify ]; then
  kyc='{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/certus/contexts/kyc/v1"],"type":["VerifiableCredential","KycCredential"],"credentialSubject":{"givenName":"Maria","familyName":"Rossi","birthDate":"1988-04-12","assuranceLevel":"substantial","checkDate":"2026-10-01","checkMethod":"video"}}'
  api /credentials/issue "$CERTUS_TOKEN" -d '{"credential":'"$kyc"',"options":{"format":"'"$format"'"}}' \
    | python3 -c 'import json,sys; print(json.dumps({"verifiableCredential": json.load(sys.stdin)["verifiableCredential"]}))' \
    > "$data/verify.json"
  sleep 2  # anchored: the verification's `anchored` check passes
  export CERTUS_VERIFY_BODY=$data/verify.json
  script=e2e/load/verify.lua url=http://127.0.0.1:18080/credentials/verify
fi

round() {
  wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$script" "$url" > "$data/wrk.txt"
  rate=$(awk '/Requests\/sec/ {print $2}' "$data/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$data/wrk.txt")
  p90=$(awk '$1 == "90%" {print $2}' "$data/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$data/wrk.txt")
  bad=$(awk '/Non-2xx/ {print $5}' "$data/wrk.txt")
}

if [ -n "$compare" ]; then
  node e2e/load/digitalbazaar-issuer.mjs 18081 http://127.0.0.1:18080 &
  yardstick=$!
  until curl -sf -o /dev/null http://127.0.0.1:18081/credentials/issue -H 'Content-Type: application/json' \
      -d '{"credential":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:1"}}}'; do
    sleep 0.1
  done
  echo "round  server                     requests/s  p50  p99"
  certus_url=$url
  for n in 1 2; do
    url=$certus_url; round; certus_rates+=("$rate")
    echo "$n  certus ($db)  $rate  $p50  $p99  non-2xx ${bad:-0}"
    url=http://127.0.0.1:18081/credentials/issue; round; yardstick_rates+=("$rate")
    echo "$n  digitalbazaar (node $(node --version))  $rate  $p50  $p99  non-2xx ${bad:-0}"
  done
  python3 -c 'import sys; c, d = [sum(map(float, a.split())) / 2 for a in sys.argv[1:]]; print(f"eddsa-rdfc-2022 issuance: certus {c:.0f}/s, digitalbazaar {d:.0f}/s, ratio {c / d:.1f}x")' \
    "${certus_rates[*]}" "${yardstick_rates[*]}"
elif [ "$until" -gt 0 ]; then
  echo "round  requests/s  p99  stored  bytes/credential"
  n=0
  while :; do
    n=$((n + 1)); round
    count=$(stored); bytes=$(store_bytes)
    echo "$n  $rate  $p99  $count  $((bytes / (count > 0 ? count : 1)))"
    [ "$count" -ge "$until" ] && break
  done
else
  round
  cat "$data/wrk.txt"
  echo "$endpoint $format on $db, $connections connections, ${seconds}s: $rate requests/s, p50 $p50 p90 $p90 p99 $p99, non-2xx ${bad:-0}"
fi
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
if [ "$endpoint" = issue ]; then
  count=$(stored); bytes=$(store_bytes)
  echo "credentials recorded: $count; store $bytes bytes, $((bytes / (count > 0 ? count : 1))) bytes a credential"
  sleep 2  # every recorded credential is anchored within a block interval or two
  "$CERTUS_BIN" chain verify
fi
