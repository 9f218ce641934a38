#!/usr/bin/env bash
# Every shipped world soaked for 30 simulated days at its default pace and at 10x it (issue 29):
# the verdict, what drifts, the events and the wall time of each, pinned to one core.
#
#   bench/soak-worlds.sh [DURATION]      # default 30d; writes target/soak-worlds/*.txt|json
set -uo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30d}
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --quiet --target "$host" || exit 1
bin="${CARGO_TARGET_DIR:-target}/$host/release/kafka-gen"
out="${CARGO_TARGET_DIR:-target}/soak-worlds"
mkdir -p "$out"
# name | scenario | the flags of 10x its default pace
runs=(
  "retail|retail|--min-delta 1 --max-delta 6"
  "tutoring|tutoring|--set STREAM_COUNT=500"
  "bnpl|bnpl|--set rate_per_second=10"
  "music|music|--set volume=600"
  "web|web|--set num_users=100"
)
printf '%-9s %-5s %-9s %12s %8s  %s\n' world pace verdict events wall_s drifts
for run in "${runs[@]}"; do
  IFS='|' read -r name scenario tenx <<<"$run"
  for pace in 1x 10x; do
    flags=()
    [ "$pace" = 10x ] && read -r -a flags <<<"$tenx"
    json="$out/$name-$pace.json"
    start=$(date +%s.%N)
    taskset -c 0 "$bin" soak --scenario "$scenario" --duration "$duration" "${flags[@]}" \
      --summary-json "$json" >"$out/$name-$pace.txt" 2>"$out/$name-$pace.err"
    code=$?
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    python3 - "$json" "$name" "$pace" "$code" "$wall" <<'PY'
import json, sys
path, name, pace, code, wall = sys.argv[1:]
try:
    s = json.load(open(path))
except Exception:
    print(f"{name:<9} {pace:<5} exit {code} (no summary; see the .err file)")
    sys.exit()
what = "; ".join(f"{d['what']} from {d['from_period']}" for d in s["drifts"][:6])
print(f"{name:<9} {pace:<5} {s['verdict']:<9} {s['events']:>12,} {float(wall):>8.1f}  {what}")
PY
  done
done
