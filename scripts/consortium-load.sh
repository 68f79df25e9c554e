#!/usr/bin/env bash
# A four-member consortium on loopback (release build, SQLite each), measured three ways;
# everything stops by itself. Usage: ./scripts/consortium-load.sh [anchors] [samples]
#  1. throughput: `anchors` credential anchors (default 100000) queued at once in member 1's
#     outbox, as a burst of issuances leaves them; the time until member 3 holds them all
#     in final blocks gives anchors finalised per second;
#  2. latency: `samples` issuances (default 100) one after another on member 2, each timed
#     from the request until its receipt is served (final), p50 and p99;
#  3. catch-up: member 4 is stopped before the burst and restarted after it; the time until
#     its head is member 1's gives blocks and anchors caught up per second.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_system_packages sqlite3
anchors=${1:-100000}
samples=${2:-100}
cargo build --quiet --release -p certus-server
bin=$PWD/target/release/certus
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
export RUST_LOG=warn
unset CERTUS_CHAIN_ID CERTUS_GENESIS DATABASE_URL
"$bin" consortium init --members 4 --out "$dir" --p2p-base 17300 >/dev/null
start() { "$bin" serve --data-dir "$dir/node-$1" --addr "127.0.0.1:1808$1" --web-dir "$dir" >/dev/null 2>"$dir/node-$1.log" & pids[$1]=$!; }
for i in 1 2 3 4; do start "$i"; done
for i in 1 2 3 4; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:1808$i/ready" >/dev/null && break; sleep 0.2; done
done
now_ms() { date +%s%3N; }
height() { curl -sf "http://127.0.0.1:1808$1/chain/head" | sed -n 's/.*"height":\([0-9]*\).*/\1/p'; }
anchored() { sqlite3 "$dir/node-$1/certus.db" 'select count(*) from ledger_transactions where kind = 1'; }

# 1. Throughput, with member 4 down.
kill "${pids[4]}"; wait "${pids[4]}" 2>/dev/null || true
python3 - "$dir/node-1/certus.db" "$anchors" <<'EOF'
import os, sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1], timeout=30)
now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f+00:00')
rows = []
for _ in range(int(sys.argv[2])):
    commitment = os.urandom(32)
    rows.append((b'\x01' + commitment, commitment.hex(), now))
db.executemany('INSERT INTO ledger_outbox (data, commitment, created_at) VALUES (?, ?, ?)', rows)
db.commit()
EOF
t0=$(now_ms)
until [ "$(anchored 3)" -ge "$anchors" ]; do
  [ $(( $(now_ms) - t0 )) -lt 300000 ] || { echo "not final within 300 s" >&2; exit 1; }
  sleep 0.1
done
t1=$(now_ms)
blocks=$(height 3)
echo "throughput: $anchors anchors final on member 3 in $(( t1 - t0 )) ms: $(( anchors * 1000 / (t1 - t0) )) anchors/s, $blocks blocks"

# 2. Latency, one issuance at a time.
token=$("$bin" api-key create --data-dir "$dir/node-2" --scopes issue,read)
body='{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/certus/contexts/food/v1"],"type":["VerifiableCredential","FoodIngredientCertificate"],"credentialSubject":{"ingredientName":"Olive oil","producer":"Frantoio","standard":"ISO 22000:2018","auditDate":"2026-09-15","result":"certified"}},"options":{"format":"vc+jwt"}}'
times=()
for _ in $(seq "$samples"); do
  s=$(now_ms)
  id=$(curl -sf http://127.0.0.1:18082/credentials/issue -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$body" | grep -o '"id":"urn:uuid:[^"]*"' | head -1 | cut -d'"' -f4)
  until curl -sf -o /dev/null "http://127.0.0.1:18082/credentials/$id/receipt" -H "Authorization: Bearer $token"; do
    [ $(( $(now_ms) - s )) -lt 30000 ] || { echo "$id not final within 30 s" >&2; exit 1; }
    sleep 0.01
  done
  times+=($(( $(now_ms) - s )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
n=${#sorted[@]}
echo "latency from request to final receipt over $n issuances: p50 ${sorted[$(( n / 2 ))]} ms, p99 ${sorted[$(( (n * 99 + 99) / 100 - 1 ))]} ms, max ${sorted[$(( n - 1 ))]} ms"

# 3. Catch-up of member 4.
target=$(height 1)
start 4
t0=$(now_ms)
until [ "$(height 4 2>/dev/null || echo 0)" = "$target" ]; do
  [ $(( $(now_ms) - t0 )) -lt 300000 ] || { echo "member 4 did not catch up within 300 s" >&2; exit 1; }
  sleep 0.1
done
t1=$(now_ms)
echo "catch-up: member 4 fetched and checked $target blocks ($(anchored 4) anchors) in $(( t1 - t0 )) ms (from its start, process start-up included)"
for i in 1 2 3 4; do kill "${pids[$i]}" 2>/dev/null || true; done
wait 2>/dev/null || true
for i in 1 2 3 4; do "$bin" chain verify --data-dir "$dir/node-$i" >/dev/null || { echo "member $i: chain verify failed" >&2; exit 1; }; done
echo "chain verify passed on all four members"
