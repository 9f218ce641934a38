#!/usr/bin/env bash
# A local Kafka-protocol broker (Tansu, in-memory storage) for development, tests, CI and the
# benchmark. Usage: scripts/dev-broker.sh install|start|stop|status|create-topics [TOPIC...]
#
#   PORT            listen port (default 9092); tests use 19092 so a dev broker does not clash
#   TANSU_VERSION   version to install (default 0.6.0)
#   TANSU_OPT_LEVEL the build's opt-level (default 3). scripts/test.sh builds with 1: 0.70x the
#                   build time, and its Tansu tests take as long (they wait on kafka-gen, not
#                   the broker). bench/kafka-throughput.sh wants 3: it reuses whatever is
#                   installed, so remove ~/.cargo/bin/tansu first if the tests installed it.
#   STATE_DIR       pid and log files (default ${TMPDIR:-/tmp}/kafka-gen-broker-$PORT)
#
# `install` runs `cargo install` only when no `tansu` is on PATH (or in ~/.cargo/bin), so a
# machine or CI cache that already has the binary does not rebuild it.
set -euo pipefail

PORT="${PORT:-9092}"
TANSU_VERSION="${TANSU_VERSION:-0.6.0}"
TANSU_OPT_LEVEL="${TANSU_OPT_LEVEL:-3}"
STATE_DIR="${STATE_DIR:-${TMPDIR:-/tmp}/kafka-gen-broker-$PORT}"
PID_FILE="$STATE_DIR/tansu.pid"
LOG_FILE="$STATE_DIR/tansu.log"
ADDR="127.0.0.1:$PORT"
export PATH="$PATH:$HOME/.cargo/bin"

die() { echo "dev-broker: $*" >&2; exit 1; }

tansu_bin() { command -v tansu 2>/dev/null || true; }

install() {
    local bin; bin="$(tansu_bin)"
    if [[ -n "$bin" ]]; then
        echo "dev-broker: using $bin ($("$bin" --version 2>/dev/null || echo unknown version))"
        return
    fi
    echo "dev-broker: installing tansu $TANSU_VERSION, opt-level $TANSU_OPT_LEVEL (one-off build; cache ~/.cargo/bin/tansu in CI)"
    # In a build folder of its own (cargo's temporary one), never a CARGO_TARGET_DIR set for
    # kafka-gen: scripts/test.sh runs this beside kafka-gen's own build, and one target folder
    # would make each wait for the other's lock.
    env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_OPT_LEVEL="$TANSU_OPT_LEVEL" cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start() {
    if running; then echo "dev-broker: already running at $ADDR (pid $(cat "$PID_FILE"))"; return; fi
    port_open && die "port $PORT is taken by another process; pick another PORT"
    local bin; bin="$(tansu_bin)"
    [[ -n "$bin" ]] || die "tansu is not installed; run: $0 install"
    mkdir -p "$STATE_DIR"
    # setsid: the broker outlives this script and is stopped by pid, never by name.
    setsid "$bin" broker \
        --storage-engine memory://tansu/ \
        --listener-url "tcp://$ADDR" \
        --advertised-listener-url "tcp://$ADDR" \
        >"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 100); do
        if port_open; then echo "dev-broker: up at $ADDR (pid $(cat "$PID_FILE"), log $LOG_FILE)"; return; fi
        running || die "tansu exited during start-up; see $LOG_FILE"
        sleep 0.1
    done
    stop
    die "tansu did not open $ADDR within 10s; see $LOG_FILE"
}

stop() {
    if running; then
        local pid; pid="$(cat "$PID_FILE")"
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "dev-broker: stopped (pid $pid)"
    else
        echo "dev-broker: not running"
    fi
    rm -f "$PID_FILE"
}

status() {
    if running; then echo "dev-broker: running at $ADDR (pid $(cat "$PID_FILE"))"; else echo "dev-broker: not running"; exit 3; fi
}

# Creates topics with Tansu's own CLI (kafka-gen can also do it: --create-topics).
create_topics() {
    local bin; bin="$(tansu_bin)"
    for t in "$@"; do
        "$bin" topic create "$t" --broker "tcp://$ADDR" --partitions "${PARTITIONS:-3}" >/dev/null 2>&1 || true
    done
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    create-topics) shift; create_topics "$@" ;;
    *) echo "usage: $0 install|start|stop|status|create-topics [TOPIC...]" >&2; exit 2 ;;
esac
