#!/usr/bin/env bash
# The project's test command (CI runs exactly this): set-up, formatting, lints, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tansu's one-off build (the longest step of a first run) goes on beside the lints and the
# test build, which leave a core idle part of the time; only the tests wait for it.
broker_log="$(mktemp)"
# At opt-level 1: 0.70x the build time of a full release build, and the Tansu tests take as long.
TANSU_OPT_LEVEL="${TANSU_OPT_LEVEL:-1}" bash scripts/dev-broker.sh install >"$broker_log" 2>&1 &
broker=$!
# Stops that build if a step below fails first: its children before the shell that started
# them (else they are orphaned and run on), and only while it is still this script's running
# job (a finished job's pid may belong to another process by then).
stop_broker_build() {
    if [[ -n "$broker" ]] && jobs -pr | grep -qx "$broker"; then
        pkill -TERM -P "$broker" 2>/dev/null || true
        kill "$broker" 2>/dev/null || true
    fi
}
trap stop_broker_build EXIT
SETUP_BROKER=0 bash scripts/setup.sh
cargo fmt --all -- --check
# An explicit --target keeps the build scripts' own dependencies apart from the crate's, so the
# lints and the tests share one build of each vendored C library (librdkafka, OpenSSL, zstd,
# zlib). Without it, cargo builds them once for `clippy` and again for `test`.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo clippy --all-targets --locked --target "$host" -- -D warnings
cargo test --locked --target "$host" --no-run
if ! wait "$broker"; then
    cat "$broker_log" >&2
    echo "test: installing the Tansu broker failed (log above)" >&2
    exit 1
fi
broker=""
tail -n 3 "$broker_log"
rm -f "$broker_log"
cargo test --locked --target "$host"
# The compose stack, run for real with the image docker/Dockerfile builds (no registry needed:
# local stand-ins of its base images, Tansu for Kafka): events must flow
# straight to Kafka and through the ingest API with no contract violations, and SIGTERM must
# flush. Needs Docker; without it only the compose files are validated (a failure under CI).
# Both Docker checks keep their caches (~/.cache/kafka-gen/stock, Docker's layers) between runs.
if docker info >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1; then
    # The README's run command on a stock Debian (Rust, gcc, g++, make, perl only), and set-up there.
    bash scripts/stock-check.sh
    bash scripts/compose-smoke.sh
elif [ "${CI:-}" = "true" ]; then
    echo "test: Docker or docker-compose is unavailable; the compose smoke cannot run" >&2
    exit 1
else
    echo "test: SKIPPING the compose smoke (no Docker here)" >&2
    if command -v docker-compose >/dev/null 2>&1; then
        COMPOSE=docker-compose bash scripts/compose-smoke.sh config
    fi
fi
