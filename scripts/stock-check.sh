#!/usr/bin/env bash
# Proves the README's run command works on a stock machine: a fresh Debian with the Rust
# toolchain, a C and C++ compiler (gcc, g++), make and perl, and nothing else (no cmake,
# pkg-config, or -dev packages). librdkafka needs g++ for its C++ wrapper, which both of its
# build systems compile whether or not it is used.
# It builds kafka-gen there and runs exactly the README's first command until the first event
# reaches stdout, which must happen within FIRST_EVENT_SECS of the build finishing.
#
#   scripts/stock-check.sh
#
#   STOCK_CACHE        build cache kept between runs (default ~/.cache/kafka-gen/stock)
#   FIRST_EVENT_SECS   (default 15)
#
# The stock machine is the kafka-gen-standin/stock image from scripts/standins.sh, made from
# `debootstrap --variant=minbase bookworm`. The host's crate download cache is shared with it,
# so crates are not fetched twice.
set -euo pipefail
cd "$(dirname "$0")/.."

STOCK_CACHE="${STOCK_CACHE:-$HOME/.cache/kafka-gen/stock}"
FIRST_EVENT_SECS="${FIRST_EVENT_SECS:-15}"
REGISTRY="${CARGO_HOME:-$HOME/.cargo}/registry"

say() { echo "stock-check: $*" >&2; }

bash scripts/standins.sh
mkdir -p "$STOCK_CACHE/target" "$REGISTRY"

# The README's run command, word for word; the check below fails if the README changes it.
readme_cmd='cargo run --release -- --sink stdout --continuous --min-delta 5 --max-delta 30'
grep -qF "$readme_cmd" README.md || { say "FAILED: README.md no longer shows: $readme_cmd"; exit 1; }

docker run --rm -i \
    -v "$PWD":/src:ro -w /src \
    -v "$STOCK_CACHE/target":/target -e CARGO_TARGET_DIR=/target \
    -v "$REGISTRY":/usr/local/cargo/registry \
    -e FIRST_EVENT_SECS="$FIRST_EVENT_SECS" -e README_CMD="$readme_cmd" \
    kafka-gen-standin/stock bash -s <<'IN_STOCK'
set -euo pipefail
say() { echo "stock-check: $*" >&2; }
# Stock means stock: none of what the old cmake build of librdkafka needed may be here.
for tool in cmake pkg-config curl-config; do
    if command -v "$tool" >/dev/null; then say "FAILED: the stock image has $tool"; exit 1; fi
done
for header in curl/curl.h openssl/ssl.h zlib.h zstd.h sasl/sasl.h; do
    if [ -e "/usr/include/$header" ]; then say "FAILED: the stock image has $header"; exit 1; fi
done
say "building on a stock machine ($(rustc --version), $(gcc --version | head -n 1))"
TIMEFORMAT="stock-check: built in %R s (CPU: user %U s, sys %S s)"
time cargo build --release --locked --bin kafka-gen

# Run the README's command, and wait for its first event on stdout.
out=$(mktemp)
started=$(date +%s%N)
$README_CMD >"$out" 2>/tmp/stderr &
pid=$!
deadline=$(( $(date +%s) + FIRST_EVENT_SECS ))
while [ ! -s "$out" ] && [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
done
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
if [ ! -s "$out" ]; then
    say "FAILED: no event on stdout within ${FIRST_EVENT_SECS}s of: $README_CMD"
    tail -n 20 /tmp/stderr >&2
    exit 1
fi
first=$(head -n 1 "$out")
case "$first" in
    '{'*'"event_type"'*) ;;
    *) say "FAILED: the first line is not an event: $first"; exit 1 ;;
esac
say "first event on stdout ${elapsed_ms} ms after start: $(echo "$first" | cut -c 1-120)..."
IN_STOCK

# The test command's set-up on the same stock machine: it must install everything the tests
# need by itself. Tansu comes from this machine's build (setup.sh reuses a tansu on PATH, as CI
# does), since building it again takes 10 to 15 minutes.
TANSU="$(command -v tansu || echo "$HOME/.cargo/bin/tansu")"
[[ -x "$TANSU" ]] || { say "FAILED: no tansu here to lend the stock machine"; exit 1; }
say "running scripts/setup.sh on the stock machine"
docker run --rm -i -v "$PWD":/src:ro -w /src -v "$TANSU":/usr/local/bin/tansu:ro \
    -e PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    kafka-gen-standin/stock bash -s <<'IN_STOCK'
set -euo pipefail
bash scripts/setup.sh
python3 -c "import confluent_kafka; print('stock-check: confluent-kafka', confluent_kafka.__version__)"
command -v debootstrap >/dev/null && busybox true
IN_STOCK
say "PASSED"
