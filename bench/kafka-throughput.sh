#!/usr/bin/env bash
# Kafka throughput of kafka-gen against a raw producer baseline, on one local Tansu broker.
#
#   bench/kafka-throughput.sh [N] [RSS_EVENTS]
#
#   N           primary events for the comparison (default 1000000; about 1.7 records each)
#   RSS_EVENTS  if set, also run kafka-gen alone until about this many records and report
#               its peak RSS (e.g. 10000000)
#
# (a) examples/raw_producer: sends the same records, pre-generated into a file and loaded
#     before its clock starts, with the same rdkafka, settings, topics, keys and headers.
# (p) the same raw producer, plain: every record to one topic, no keys, no headers. What
#     kafka-gen's guarantees (per-type topics, keys, headers) cost shows against this one.
# (d) kafka-gen in historical mode (the same N primaries over a past year), against (b).
# (b) kafka-gen on the simulated clock (--start/--count), generating as fast as Kafka takes
#     events. Timed from its "Kafka sink ready." log line to "Kafka sink flushed.", so both
#     sides exclude process start-up and connecting; wall-clock figures are printed too.
# HEADERS (all, event_type or none; default all) picks the header set of (a) and (b).
# Reports (b)/(a) (target >= 0.9), (b)/(p), events/s, MB/s of payload and peak RSS of each.
set -euo pipefail

N="${1:-1000000}"
RSS_EVENTS="${2:-}"
PORT="${PORT:-29092}"
HEADERS="${HEADERS:-all}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kafka-gen-bench.XXXXXX")"
BOOT="127.0.0.1:$PORT"
START="2025-01-01T00:00:00Z"
SEED=11
export PORT STATE_DIR="$WORK/broker"

[[ -x /usr/bin/time ]] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }
cleanup() { "$ROOT/scripts/dev-broker.sh" stop >/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

(cd "$ROOT" && cargo build --quiet --release --bin kafka-gen --example raw_producer)
BIN="$TARGET/release/kafka-gen"
RAW="$TARGET/release/examples/raw_producer"

"$ROOT/scripts/dev-broker.sh" install >/dev/null
"$ROOT/scripts/dev-broker.sh" start
GEN=("$BIN" --data-dir "$ROOT/data" --seed "$SEED" --start "$START" --rate 1000000 --stats-interval 0)

echo "bench: pre-generating $N primary events for the raw producer"
"${GEN[@]}" --sink file --output "$WORK/events.jsonl" --count "$N" 2>/dev/null
RECORDS=$(wc -l <"$WORK/events.jsonl")
BYTES=$(( $(stat -c %s "$WORK/events.jsonl") - RECORDS ))
"${GEN[@]}" --bootstrap-servers "$BOOT" --create-topics --count 1 --summary-json /dev/null 2>/dev/null

echo "bench: (a) raw producer, $RECORDS records, headers $HEADERS"
/usr/bin/time -v -o "$WORK/a.time" "$RAW" --bootstrap "$BOOT" --input "$WORK/events.jsonl" --headers "$HEADERS" >"$WORK/a.json"
echo "bench: (p) plain raw producer, $RECORDS records to one topic, no keys, no headers"
"$RAW" --bootstrap "$BOOT" --input "$WORK/events.jsonl" --plain >"$WORK/p.json"
rm -f "$WORK/events.jsonl"

echo "bench: (b) kafka-gen, $N primary events, --kafka-headers $HEADERS"
/usr/bin/time -v -o "$WORK/b.time" "${GEN[@]}" --bootstrap-servers "$BOOT" --count "$N" --kafka-headers "$HEADERS" --summary-json "$WORK/b.json" \
    --log-format json >/dev/null 2>"$WORK/b.log"

# (d) historical mode: the same number of primary events drawn from the time profile over a
# past year (bench for the historical issue: target at least 0.9 of (b)).
echo "bench: (d) kafka-gen historical, $N primary events over 2025"
"$BIN" --data-dir "$ROOT/data" --seed "$SEED" --start 2025-01-01 --end 2025-12-31 --count "$N" --stats-interval 0 \
    --bootstrap-servers "$BOOT" --summary-json "$WORK/d.json" --log-format json >/dev/null 2>"$WORK/d.log"

rss_run=""
if [[ -n "$RSS_EVENTS" ]]; then
    # Derived events thin out over a long run: about 1.4 records per primary over 10M.
    PRIMARY=$(( RSS_EVENTS * 100 / 140 ))
    echo "bench: (c) kafka-gen alone, $PRIMARY primary events (about $RSS_EVENTS records), for peak RSS"
    /usr/bin/time -v -o "$WORK/c.time" "${GEN[@]}" --bootstrap-servers "$BOOT" --count "$PRIMARY" --summary-json "$WORK/c.json" \
        --log-format json >/dev/null 2>"$WORK/c.log"
    rss_run="$WORK/c"
fi

python3 - "$WORK" "$BYTES" "$RECORDS" "$rss_run" <<'PY'
import json, re, sys
from datetime import datetime
work, nbytes, records, rss_run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def gnu_time(path):
    text = open(path).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return rss, secs

def run_secs(path):
    """Seconds from 'Kafka sink ready.' to 'Kafka sink flushed.' in a JSON log."""
    at = {}
    for line in open(path):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("message") in ("Kafka sink ready.", "Kafka sink flushed."):
            at[ev["message"]] = datetime.fromisoformat(ev["timestamp"].replace("Z", "+00:00"))
    return (at["Kafka sink flushed."] - at["Kafka sink ready."]).total_seconds()

def summary(path):
    s = json.load(open(path))
    k = [x for x in s["sinks"] if x["name"] == "kafka"][0]
    assert k["failed_total"] == 0 and k["in_flight_total"] == 0, "kafka-gen left events undelivered"
    return s["generated_total"]

a = json.load(open(f"{work}/a.json"))
a_rss, a_wall = gnu_time(f"{work}/a.time")
b_events = summary(f"{work}/b.json")
assert b_events == records == a["delivered"], (b_events, records, a["delivered"])
b_rss, b_wall = gnu_time(f"{work}/b.time")
b_secs = run_secs(f"{work}/b.log")
mb = nbytes / 1e6
print()
print(f"records: {records} ({mb:.0f} MB of JSON payload, {nbytes / records:.0f} B each)")
print(f"(a) raw producer : {a['msgs_per_sec']:>10.0f} events/s  {a['mb_per_sec']:6.1f} MB/s  "
      f"{a['secs']:.2f} s  peak RSS {a_rss / 1024:.0f} MB (holds the whole input file)")
print(f"(b) kafka-gen    : {b_events / b_secs:>10.0f} events/s  {mb / b_secs:6.1f} MB/s  "
      f"{b_secs:.2f} s  peak RSS {b_rss / 1024:.0f} MB  (wall clock incl. start-up {b_wall:.2f} s)")
print(f"ratio (b)/(a)    : {(b_events / b_secs) / a['msgs_per_sec']:.3f}  (target >= 0.9; "
      f"wall-clock ratio {(b_events / b_wall) / a['msgs_per_sec']:.3f})")
p = json.load(open(f"{work}/p.json"))
assert p["delivered"] == records, (p["delivered"], records)
print(f"(p) plain raw    : {p['msgs_per_sec']:>10.0f} events/s  (one topic, no keys, no headers)")
print(f"ratio (b)/(p)    : {(b_events / b_secs) / p['msgs_per_sec']:.3f}  (what per-type topics, keys, "
      f"headers and generation cost; (a)/(p) = {a['msgs_per_sec'] / p['msgs_per_sec']:.3f})")
d_events = summary(f"{work}/d.json")
d_secs = run_secs(f"{work}/d.log")
print(f"(d) historical   : {d_events / d_secs:>10.0f} events/s  ({d_events} records in {d_secs:.2f} s)")
print(f"ratio (d)/(b)    : {(d_events / d_secs) / (b_events / b_secs):.3f}  (target >= 0.9)")
if rss_run:
    c_events = summary(f"{rss_run}.json")
    c_rss, c_wall = gnu_time(f"{rss_run}.time")
    c_secs = run_secs(f"{rss_run}.log")
    print(f"(c) kafka-gen    : {c_events} records in {c_secs:.1f} s ({c_events / c_secs:.0f} events/s), "
          f"peak RSS {c_rss / 1024:.0f} MB (target < 300 MB)")
PY
