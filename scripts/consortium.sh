#!/usr/bin/env bash
# A four-member consortium on this machine, in one command: three institutions and a
# regulator (member 4, the root authority), each a `certus` node with its own SQLite store under DIR (default
# ./consortium), its API at http://127.0.0.1:8081 … 8084 and its peer port at 7101 … 7104.
# The first start makes the members (`certus consortium init`); later starts reuse them.
# Prints an API key of each member (issue, status, verify, read, trust) to DIR/keys.env,
# then runs until Ctrl-C, which stops all four.
#
#   ./scripts/consortium.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
prepare_serving
cargo build --quiet -p certus-server
bin=$PWD/target/debug/certus
dir=${1:-consortium}
unset CERTUS_CHAIN_ID CERTUS_GENESIS DATABASE_URL CERTUS_DATA_DIR CERTUS_ADDR CERTUS_PUBLIC_URL
if [ ! -f "$dir/genesis.json" ]; then
  RUST_LOG=warn "$bin" consortium init --members 4 --out "$dir" --p2p-base 7101 --root node-4 >/dev/null
fi
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM
for i in 1 2 3 4; do
  "$bin" serve --data-dir "$dir/node-$i" --addr "127.0.0.1:808$i" \
    --web-dir frontend/dist >"$dir/node-$i.log" 2>&1 &
  pids+=("$!")
done
for i in 1 2 3 4; do
  ready=
  for _ in $(seq 150); do
    if curl -sf "http://127.0.0.1:808$i/ready" >/dev/null; then ready=1; break; fi
    sleep 0.2
  done
  [ -n "$ready" ] || { echo "member $i did not get ready; see $dir/node-$i.log" >&2; exit 1; }
done
: >"$dir/keys.env"
for i in 1 2 3 4; do
  key=$(RUST_LOG=warn "$bin" api-key create --data-dir "$dir/node-$i" --scopes issue,status,verify,read,trust)
  echo "KEY$i=$key" >>"$dir/keys.env"
done
echo "four members up: http://127.0.0.1:8081 … http://127.0.0.1:8084 (logs in $dir/node-I.log)"
echo "their API keys: $dir/keys.env (. $dir/keys.env to use \$KEY1 … \$KEY4); Ctrl-C stops them"
wait
