#!/usr/bin/env bash
# Peak memory of a long run stays flat: peak RSS for 10,000,000 primary events to the null sink
# against the peak for 1,000,000, in one run of this script. Target: within 10%.
#
#   bench/memory.sh [SMALL] [LARGE]
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-1000000}
large=${2:-10000000}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release --quiet
bin=target/release/kafka-gen

peak_kb() { # count -> "peak_kb seconds"
  local report
  report=$(mktemp)
  /usr/bin/time -o "$report" -f "%M %e" "$bin" --sink null --seed 1 --start 2025-01-01T00:00:00Z \
    --count "$1" --stats-interval 0 2>/dev/null
  tail -n 1 "$report"
  rm -f "$report"
}

read -r small_kb small_s < <(peak_kb "$small")
read -r large_kb large_s < <(peak_kb "$large")
ratio=$(awk -v a="$large_kb" -v b="$small_kb" 'BEGIN { printf "%.3f", a / b }')
echo "RESULT peak_rss_${small}=${small_kb}KiB (${small_s}s) peak_rss_${large}=${large_kb}KiB (${large_s}s) ratio=${ratio} (target <= 1.10)"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.10) }'
