#!/usr/bin/env bash
# A four-member consortium on loopback (release build, SQLite each), measured three ways;
# everything stops by itself. Usage: ./scripts/consortium-load.sh [anchors] [samples]
#  1. throughput: `anchors` credential anchors (default 100000) queued at once in member 1's
#     outbox, as a burst of issuances leaves them; the time until member 3 holds them all
#     in final blocks gives anchors finalised per second (all four members up);
#  2. latency: `samples` issuances (default 100) one after another on member 2, each timed
#     from the request until its receipt says it is anchored in a final block (200, not
#     202), p50 and p99; then again with member 4 stopped, when a quarter of the views
#     wait out their leader's timeout;
#  3. catch-up: while member 4 is stopped, another burst of `anchors` is finalised; the
#     time from its restart until its head is member 3's (which holds them all) gives
#     blocks and anchors caught up per second.
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

# Queues `$1` random anchors at once in member 1's outbox, then waits until member 3 holds
# `$2` anchors in final blocks; prints how long that took, in ms.
burst() {
  python3 - "$dir/node-1/certus.db" "$1" <<'PY'
import os, sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1], timeout=30)
now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f+00:00')
rows = []
for _ in range(int(sys.argv[2])):
    commitment = os.urandom(32)
    rows.append((b'\x01' + commitment, commitment.hex(), now))
db.executemany('INSERT INTO ledger_outbox (data, commitment, created_at) VALUES (?, ?, ?)', rows)
db.commit()
PY
  local t0; t0=$(now_ms)
  until [ "$(anchored 3)" -ge "$2" ]; do
    [ $(( $(now_ms) - t0 )) -lt 300000 ] || { echo "not final within 300 s" >&2; exit 1; }
    sleep 0.05
  done
  echo $(( $(now_ms) - t0 ))
}

# Issues `samples` credentials one at a time on member 2, each timed until final.
token=$("$bin" api-key create --data-dir "$dir/node-2" --scopes issue,read)
body='{"credential":{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/certus/contexts/food/v1"],"type":["VerifiableCredential","FoodIngredientCertificate"],"credentialSubject":{"ingredientName":"Olive oil","producer":"Frantoio","standard":"ISO 22000:2018","auditDate":"2026-09-15","result":"certified"}}}'
latency() {
  local times=() s id
  for _ in $(seq "$samples"); do
    s=$(now_ms)
    id=$(curl -sf http://127.0.0.1:18082/credentials/issue -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d "$body" | grep -o '"id":"urn:uuid:[^"]*"' | head -1 | cut -d'"' -f4)
    # 202 while waiting for a block; 200 once anchored in a final one.
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:18082/credentials/$id/receipt" -H "Authorization: Bearer $token")" = 200 ]; do
      [ $(( $(now_ms) - s )) -lt 30000 ] || { echo "$id not final within 30 s" >&2; exit 1; }
      sleep 0.01
    done
    times+=($(( $(now_ms) - s )))
  done
  local sorted n
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  n=${#sorted[@]}
  echo "p50 ${sorted[$(( n / 2 ))]} ms, p99 ${sorted[$(( (n * 99 + 99) / 100 - 1 ))]} ms, max ${sorted[$(( n - 1 ))]} ms over $n issuances"
}

# 1. Throughput, all four up.
took=$(burst "$anchors" "$anchors")
echo "throughput: $anchors anchors final on member 3 in $took ms: $(( anchors * 1000 / took )) anchors/s ($(height 3) blocks so far)"

# 2. Latency from request to final receipt, all four up, then member 4 stopped.
echo "latency, four up: $(latency)"
kill "${pids[4]}"; wait "${pids[4]}" 2>/dev/null || true
echo "latency, member 4 stopped: $(latency)"

# 3. Catch-up of member 4, which missed a second burst.
took=$(burst "$anchors" $(( anchors * 2 )))
echo "with member 4 stopped: $anchors more anchors final in $took ms: $(( anchors * 1000 / took )) anchors/s"
# Member 3 holds every anchor now (member 1 may still be storing the last block).
target=$(height 3)
missed=$(( target - $(sqlite3 "$dir/node-4/certus.db" 'select max(height) from ledger_blocks') ))
start 4
t0=$(now_ms)
until [ "$(height 4 2>/dev/null || echo 0)" -ge "$target" ]; do
  [ $(( $(now_ms) - t0 )) -lt 300000 ] || { echo "member 4 did not catch up within 300 s" >&2; exit 1; }
  sleep 0.05
done
t1=$(now_ms)
echo "catch-up: member 4 fetched and checked the $missed blocks it missed ($(anchored 4) anchors in all) in $(( t1 - t0 )) ms, process start-up included"
for i in 1 2 3 4; do kill "${pids[$i]}" 2>/dev/null || true; done
wait 2>/dev/null || true
for i in 1 2 3 4; do "$bin" chain verify --data-dir "$dir/node-$i" >/dev/null || { echo "member $i: chain verify failed" >&2; exit 1; }; done
echo "chain verify passed on all four members"
