#!/usr/bin/env bash
# One year of retail history at 100,000 primary events a day (about 36.5 million) to the null
# sink: wall time, events/s and peak RSS. Target: under a minute on one core, flat memory.
#
#   bench/historical.sh [EVENTS_PER_DAY]
set -euo pipefail
cd "$(dirname "$0")/.."
per_day=${1:-100000}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release --quiet
report=$(mktemp)
summary=$(mktemp)
# taskset pins the run to one core, so "on one core" is what is measured.
/usr/bin/time -o "$report" -f "%M %e" taskset -c 0 target/release/kafka-gen --sink null --seed 1 \
  --start 2025-01-01 --end 2025-12-31 --events-per-day "$per_day" --stats-interval 0 \
  --summary-json "$summary" 2>/dev/null
read -r peak_kb secs < <(tail -n 1 "$report")
primary=$(python3 -c "import json,sys; print(sum(json.load(open(sys.argv[1]))['primary'].values()))" "$summary")
echo "RESULT year_at_${per_day}_per_day primary=${primary} wall=${secs}s rate=$(awk -v n="$primary" -v s="$secs" 'BEGIN { if (n+0 > 0) printf "%.0f", n / s; else print "?" }')/s peak_rss=${peak_kb}KiB"
rm -f "$report" "$summary"
