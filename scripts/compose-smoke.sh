#!/usr/bin/env bash
# Runs docker-compose.yml for real on a machine without an image registry, and checks with the
# consumer that what the generator delivered arrived complete and consistent.
#
#   scripts/compose-smoke.sh           # the full smoke (about 1-2 minutes once the binary is built)
#   scripts/compose-smoke.sh config    # only validates the compose files (docker-compose config -q)
#
#   RUN_SECS    how long the generator runs before it is stopped (default 20)
#   COMPOSE     compose command (default docker-compose)
#
# kafka-gen runs from the real docker/Dockerfile, built by compose (from local stand-ins of its
# base images where they cannot be pulled). Only Kafka is swapped: docker/smoke/compose.override.yml
# puts Tansu, staged from the host's binary, in its place. Phases:
#   1. direct: the realistic generator writes to Kafka, is stopped with SIGTERM (the signal and
#      grace period `docker-compose down` uses), and the consumer must read exactly what the
#      generator says it delivered, with no contract violations.
#   2. ingest: the generator posts to the ingest API (SINK=http), which writes to Kafka; same
#      checks.
#   3. down: `docker-compose down` on a running generator; its summary must show every event
#      delivered and none failed or in flight.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE="${COMPOSE:-docker-compose}"
RUN_SECS="${RUN_SECS:-20}"
PROJECT="kafka-gen-smoke-$$"
FILES=(-f docker-compose.yml -f docker/smoke/compose.override.yml)

say() { echo "compose-smoke: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

if [[ "${1:-}" == "config" ]]; then
    $COMPOSE -f docker-compose.yml config -q
    $COMPOSE "${FILES[@]}" config -q
    say "compose files are valid"
    exit 0
fi

started=$(date +%s)
# The image users get: docker/Dockerfile, built by compose from its FROM images. Where those
# cannot be pulled, scripts/standins.sh makes local stand-ins of them first. Docker keeps the
# layers, so only a change to Cargo.toml/Cargo.lock rebuilds the dependencies.
say "base images (stand-ins where the real ones are missing)"
bash scripts/standins.sh
say "building docker/Dockerfile through docker-compose build"
build_started=$(date +%s)
SMOKE_LOG="$(mktemp)"
$COMPOSE -f docker-compose.yml build realistic-event-generator >"$SMOKE_LOG" 2>&1 \
    || { tail -n 40 "$SMOKE_LOG" >&2; die "docker-compose build failed"; }
say "kafka-gen:latest built in $(( $(date +%s) - build_started ))s"

TANSU="$(command -v tansu || echo "$HOME/.cargo/bin/tansu")"
[[ -x "$TANSU" ]] || die "tansu is not installed; run scripts/dev-broker.sh install"
BUSYBOX="$(command -v busybox || true)"
[[ -n "$BUSYBOX" ]] || die "busybox is missing (for health checks); apt-get install busybox-static"
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked; install busybox-static"

work="$(mktemp -d)"
# Copies a binary with its shared libraries and loader into a root file system.
stage() {
    local root="$1" bin="$2" name="$3"
    mkdir -p "$root/usr/local/bin" "$root/bin" "$root/tmp"
    chmod 1777 "$root/tmp"
    cp "$bin" "$root/usr/local/bin/$name"
    for lib in $(ldd "$bin" | awk '$3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}'); do
        cp --parents -L "$lib" "$root/"
    done
    cp "$BUSYBOX" "$root/bin/busybox"
    ln -sf busybox "$root/bin/sh"
}
stage "$work/tansu/rootfs" "$TANSU" tansu
docker build -q -t kafka-gen-smoke/tansu:local -f docker/smoke/Dockerfile.tansu "$work/tansu" >/dev/null
rm -rf "$work"
say "images built"

INGEST=1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export KAFKA_HOST_PORT="$(free_port)" INGEST_PORT="$(free_port)"
export MIN_DELTA=0.005 MAX_DELTA=0.02 STATS_INTERVAL=5 SINK=kafka
DC=($COMPOSE -p "$PROJECT" "${FILES[@]}")
cleanup() { "${DC[@]}" down -v --remove-orphans -t 5 >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Prints a JSON file from the shared /out volume.
out_file() { "${DC[@]}" run --rm --no-deps -T --entrypoint cat consumer "/out/$1"; }

# Runs the generator for RUN_SECS, stops it with SIGTERM, then checks the topics.
phase() {
    local name="$1"; shift
    say "phase $name: starting $*"
    "${DC[@]}" up -d --no-build "$@"
    sleep "$RUN_SECS"
    say "phase $name: stopping the generator (SIGTERM, stop_grace_period)"
    "${DC[@]}" stop realistic-event-generator
    "${DC[@]}" logs --no-color realistic-event-generator | tail -n 3 >&2
    local gen consumed code=0
    gen="$(out_file realistic-summary.json)"
    "${DC[@]}" run --rm --no-deps -T consumer consume --from-beginning --until-idle 5 \
        --stats-interval 5 --group-id "smoke-$name" --summary-json "/out/consumer-$name.json" || code=$?
    consumed="$(out_file "consumer-$name.json")"
    python3 - "$name" "$code" "$gen" "$consumed" <<'PY'
import json, sys
name, code, gen, con = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
sink = next(s for s in gen["sinks"] if s["name"] in ("kafka", "http"))
delivered, generated = sink["delivered_total"], gen["generated_total"]
print(f"compose-smoke: phase {name}: generator stop={gen['stop']} generated={generated} "
      f"delivered={delivered} failed={sink['failed_total']} in_flight={sink['in_flight_total']}; "
      f"consumer records={con['records']} violations={con['violations']} "
      f"by_kind={con['violations_by_kind']} late={con['late_arrivals']} exit={code}", file=sys.stderr)
problems = []
if gen["stop"] != "cancelled": problems.append(f"generator stop is {gen['stop']!r}, not a clean SIGTERM stop")
if delivered != generated: problems.append(f"generator delivered {delivered} of {generated}")
if con["records"] != delivered: problems.append(f"consumer read {con['records']}, generator delivered {delivered}")
if con["violations"] or code != 0: problems.append(f"consumer saw violations: {con['examples']}")
if delivered == 0: problems.append("nothing was generated")
if problems:
    print("compose-smoke: FAILED: " + "; ".join(problems), file=sys.stderr); sys.exit(1)
PY
}

phase direct realistic-event-generator

if [[ "$INGEST" == 1 ]]; then
    # A fresh in-memory broker, so the second phase's world does not meet the first's.
    "${DC[@]}" rm -sf kafka realistic-event-generator >/dev/null
    "${DC[@]}" up -d --no-build kafka
    # With only the http sink nobody runs --create-topics against Kafka; create them here.
    for t in retail-sales-transactions retail-inventory-updates retail-customer-events \
             retail-price-changes retail-restock-alerts; do
        "${DC[@]}" exec -T kafka /usr/local/bin/tansu topic create "$t" \
            --broker tcp://localhost:29092 --partitions 3 >/dev/null
    done
    SINK=http phase ingest ingest-api realistic-event-generator
fi

# `docker-compose down` on a running generator: compose stops it (SIGTERM, grace period) before
# the broker it depends on, so its flush must confirm every event. The in-memory broker goes away
# with `down`, so the proof is the generator's own summary: every event delivered, none failed
# or in flight.
say "phase down: starting kafka and the realistic generator"
"${DC[@]}" rm -sf kafka realistic-event-generator ingest-api >/dev/null
# No summary from an earlier phase may stand in for this one.
"${DC[@]}" run --rm --no-deps -T --entrypoint rm consumer -f /out/realistic-summary.json
SINK=kafka "${DC[@]}" up -d --no-build realistic-event-generator
sleep "$RUN_SECS"
say "phase down: docker-compose down with the generator running"
"${DC[@]}" down -t 45 >/dev/null 2>&1
python3 - "$(out_file realistic-summary.json)" <<'PY'
import json, sys
gen = json.loads(sys.argv[1])
sink = next(s for s in gen["sinks"] if s["name"] == "kafka")
print(f"compose-smoke: phase down: generator stop={gen['stop']} generated={gen['generated_total']} "
      f"delivered={sink['delivered_total']} failed={sink['failed_total']} in_flight={sink['in_flight_total']}",
      file=sys.stderr)
ok = (gen["stop"] == "cancelled" and gen["generated_total"] > 0
      and sink["delivered_total"] == gen["generated_total"]
      and sink["failed_total"] == 0 and sink["in_flight_total"] == 0)
if not ok:
    print("compose-smoke: FAILED: docker-compose down lost events", file=sys.stderr); sys.exit(1)
PY

say "PASSED in $(( $(date +%s) - started ))s (ingest phase: $([[ $INGEST == 1 ]] && echo ran || echo SKIPPED))"
