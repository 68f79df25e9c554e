#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in fuzz/ (certus-fuzz) with libFuzzer, two at a
# time (AddressSanitizer on). Needs a nightly toolchain and cargo-fuzz:
#
#   rustup toolchain install nightly --profile minimal
#   cargo +nightly install cargo-fuzz --locked
#
#   ./scripts/fuzz.sh [SECONDS [TARGET…]]    # default: 600 seconds, every target
#
# Seeds come from the smoke test (our own outputs and the published vectors); corpora and
# logs go to target/fuzz/. A crash stops that target and leaves its input in the log's
# folder; the final stats of each run are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
env -u CARGO_TARGET_DIR cargo +nightly fuzz build --fuzz-dir fuzz/cargo-fuzz -O target
binary=fuzz/cargo-fuzz/target/x86_64-unknown-linux-gnu/release/target
out=$PWD/target/fuzz
mkdir -p "$out"
CERTUS_FUZZ_SEEDS="$out/seeds" cargo test --quiet -p certus-fuzz --test smoke >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(ls "$out/seeds")

run() {
  local t=$1
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  CERTUS_FUZZ_TARGET=$t "$binary" "$out/corpus/$t" "$out/seeds/$t" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$t/" > "$out/$t.log" 2>&1 || echo "$t: stopped by a crash or an error (see $out/$t.log)"
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  [ $((i + 1)) -lt ${#targets[@]} ] && run "${targets[i + 1]}" &
  wait
done
for t in "${targets[@]}"; do
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$' || echo ?)
  cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$out/$t.log" | tail -n1 | grep -o 'cov: [0-9]* ft: [0-9]*' || echo '?')
  echo "$t executions=$execs $cov"
done
