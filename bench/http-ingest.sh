#!/usr/bin/env bash
# Throughput of the generator posting to the ingest API on loopback, batched, against a plain
# HTTP load tool (wrk) posting the same pre-made batches to the same endpoint.
#
#   bench/http-ingest.sh [N] [BATCH] [CONCURRENCY]
#
#   N            primary events the generator posts (default 200000; about 1.7 records each)
#   BATCH        events per request, both sides (default 500)
#   CONCURRENCY  requests in flight, both sides (default 8)
#
# One local Tansu broker; `kafka-gen ingest` in front of it with the idempotency window and the
# per-address rate limit off, so every post is parsed, validated, produced and confirmed by
# Kafka, whoever sends it.
# (a) wrk: the generator's own events, written to a file first and cut into BATCH-event JSON
#     arrays, posted in rotation for 20 s by a Lua script.
# (b) kafka-gen --sink http on the simulated clock, generating as fast as the API takes events.
# Both are measured on the ingest side (its request latency histogram, scraped before and
# after) and on the client side (wrk's own numbers; the generator's wall clock from "HTTP sink
# ready." to "HTTP sink flushed."). Reports events/s, p99 request latency and (b)/(a).
set -euo pipefail

N="${1:-200000}"
BATCH="${2:-500}"
CONC="${3:-8}"
PORT="${PORT:-29093}"
API_PORT="${API_PORT:-18080}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kafka-gen-http-bench.XXXXXX")"
BOOT="127.0.0.1:$PORT"
URL="http://127.0.0.1:$API_PORT/events"
export PORT STATE_DIR="$WORK/broker"

command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; }
API_PID=""
cleanup() {
    [[ -n "$API_PID" ]] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
    "$ROOT/scripts/dev-broker.sh" stop >/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$ROOT" && cargo build --quiet --release --bin kafka-gen)
BIN="$TARGET/release/kafka-gen"
"$ROOT/scripts/dev-broker.sh" install >/dev/null
"$ROOT/scripts/dev-broker.sh" start

# No per-address rate limit: both clients post from 127.0.0.1, and small batches at full speed
# would pass ingest's default 1000 requests a second.
cat >"$WORK/ingest.toml" <<EOF
[ingest]
idempotency_window_secs = 0
client_requests_per_sec = 0
EOF
RUST_LOG=warn,librdkafka=off "$BIN" ingest --config "$WORK/ingest.toml" --listen "127.0.0.1:$API_PORT" \
    --bootstrap-servers "$BOOT" --create-topics 2>"$WORK/ingest.log" &
API_PID=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$API_PORT/health" >/dev/null 2>&1 && break
    kill -0 "$API_PID" 2>/dev/null || { cat "$WORK/ingest.log"; exit 1; }
    sleep 0.2
done

# Latency histogram of the ingest API: count and p99 of what was observed between two scrapes.
scrape() { curl -sf "http://127.0.0.1:$API_PORT/metrics" >"$1"; }
p99() {
    python3 - "$1" "$2" <<'PY'
import re, sys
def buckets(path):
    out = {}
    for line in open(path):
        m = re.match(r'kafka_gen_ingest_request_duration_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            out[float(m.group(1))] = float(m.group(2))
    return out
a, b = buckets(sys.argv[1]), buckets(sys.argv[2])
diff = sorted((le, b[le] - a.get(le, 0.0)) for le in b)
total = diff[-1][1] if diff else 0
want = 0.99 * total
p = next((le for le, n in diff if n >= want), float("nan"))
print(f"{int(total)} requests, p99 <= {p * 1000:.1f} ms")
PY
}

GEN=("$BIN" --data-dir "$ROOT/data" --seed 11 --start "2025-01-01T00:00:00Z" --rate 1000000 --stats-interval 0)

# (a) wrk with pre-made batches of the generator's own events.
"${GEN[@]}" --count "$N" --sink file --output "$WORK/events.jsonl" 2>/dev/null
mkdir -p "$WORK/batches"
python3 - "$WORK/events.jsonl" "$WORK/batches" "$BATCH" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
size = int(sys.argv[3])
for i in range(0, min(len(lines), 200 * size), size):
    open(f"{sys.argv[2]}/{i // size:04d}.json", "w").write("[" + ",".join(lines[i:i + size]) + "]")
PY
cat >"$WORK/post.lua" <<EOF
local bodies, n = {}, 0
for f in io.popen('ls $WORK/batches'):lines() do
  local h = io.open('$WORK/batches/' .. f); bodies[#bodies + 1] = h:read('*a'); h:close()
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[n])
end
EOF
scrape "$WORK/m0"
wrk -t 2 -c "$CONC" -d 20s --latency -s "$WORK/post.lua" "$URL" >"$WORK/wrk.txt"
scrape "$WORK/m1"
WRK_RPS=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
WRK_P99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
WRK_NON2XX=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
WRK_EPS=$(python3 -c "print(round(float('$WRK_RPS') * $BATCH))")
echo "(a) wrk:       $WRK_EPS events/s ($WRK_RPS requests/s of $BATCH), client p99 $WRK_P99, non-2xx: ${WRK_NON2XX:-0}"
echo "    ingest side: $(p99 "$WORK/m0" "$WORK/m1")"

# (b) the generator's http sink.
scrape "$WORK/m2"
START_NS=$(date +%s%N)
RUST_LOG=info "${GEN[@]}" --count "$N" --sink http --http-endpoint "$URL" --http-batch-size "$BATCH" \
    --http-concurrency "$CONC" --summary-json "$WORK/summary.json" 2>"$WORK/gen.log"
END_NS=$(date +%s%N)
scrape "$WORK/m3"
python3 - "$WORK/gen.log" "$WORK/summary.json" "$START_NS" "$END_NS" "$WRK_EPS" <<'PY'
import json, re, sys
from datetime import datetime
log, summary, start, end, wrk = sys.argv[1:]
s = json.load(open(summary))
events = s["generated_total"]
http = next(x for x in s["sinks"] if x["name"] == "http")
def when(pattern):
    for line in open(log):
        if pattern in line:
            stamp = re.search(r"\d{4}-\d\d-\d\dT[\d:.]+", line).group(0)
            return datetime.fromisoformat(stamp[:26])
t = (when("HTTP sink flushed.") - when("HTTP sink ready.")).total_seconds()
wall = (int(end) - int(start)) / 1e9
eps = events / t
print(f"(b) kafka-gen: {eps:,.0f} events/s ({events} events in {t:.2f} s; {events / wall:,.0f}/s wall clock "
      f"incl. start-up), delivered {http['delivered_total']}, failed {http['failed_total']}, "
      f"retried {http['retried_total']}")
print(f"    ratio (b)/(a): {eps / float(wrk):.2f}")
PY
echo "    ingest side: $(p99 "$WORK/m2" "$WORK/m3")"
