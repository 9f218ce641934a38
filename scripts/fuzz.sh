#!/usr/bin/env bash
# Fuzzing (issue 30): builds the cargo-fuzz targets in fuzz/ and runs each for SECONDS (default
# 30) over its committed corpus (fuzz/corpus/<target>), failing on the first panic, hang over
# 1 s or memory past 2 GB. What a run finds is written to fuzz/artifacts/<target>/.
#
#   bash scripts/fuzz.sh [SECONDS]   each target briefly over its corpus
#   bash scripts/fuzz.sh seed        the corpora topped up from fuzz/seeds.py, then minimised
#   bash scripts/fuzz.sh cmin        the corpora minimised
#   FUZZ_TARGETS="expression" bash scripts/fuzz.sh 600    one target for ten minutes
#
# Stable Rust is enough: without a sanitizer, cargo fuzz passes rustc only stable flags (the
# coverage instrumentation is -Cpasses=sancov-module and -Cllvm-args). The fuzz build has its
# own target folder (everything, the vendored C libraries too, is built again with that
# instrumentation, so nothing of the ordinary build can be shared), under $CARGO_TARGET_DIR
# when that is set. Its first build takes several minutes; later ones only rebuild kafka-gen.
set -euo pipefail
cd "$(dirname "$0")/.."

arg="${1:-30}"
# Pinned, so that a CI run does not take a new release's changes unasked.
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.2" ]; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
host="$(rustc -vV | sed -n 's/^host: //p')"
# No sanitizer: kafka-gen is safe Rust (its C libraries, which AddressSanitizer would not
# instrument anyway, are not on the fuzzed paths), so ASan would slow every execution and
# rebuild every crate with nothing to find that a panic or -rss_limit_mb misses. Debug
# assertions on: an integer overflow is a finding, not a wrapped number.
flags=(--sanitizer none --debug-assertions --target "$host"
    --target-dir "${CARGO_TARGET_DIR:-$PWD/target}/fuzz")
targets="${FUZZ_TARGETS:-world_file expression ingest_body config_file}"
cargo fuzz build "${flags[@]}"
# New inputs a run finds go to a temporary folder, or with FUZZ_KEEP=1 into the corpus itself
# (then `cmin` shrinks it again). TMPDIR: config_file writes each input to a file there.
new="$(mktemp -d)"
trap 'rm -rf "$new"' EXIT
export TMPDIR="$new"

if [ "$arg" = seed ] || [ "$arg" = cmin ]; then
    if [ "$arg" = seed ]; then
        rm -rf fuzz/seeds
        python3 fuzz/seeds.py
    fi
    for t in $targets; do
        mkdir -p "fuzz/corpus/$t"
        if [ -d "fuzz/seeds/$t" ]; then
            cp fuzz/seeds/"$t"/* "fuzz/corpus/$t/"
        fi
        # Keeps a small set of inputs that reaches every edge the corpus reaches: edges alone,
        # not how often each runs (-use_counters=0), chosen greedily (-set_cover_merge=1), so
        # the committed corpora stay a few MB (a plain cmin of world_file's kept 17 MB).
        cargo fuzz cmin "${flags[@]}" "$t" "fuzz/corpus/$t" -- -timeout=1 -rss_limit_mb=2048 \
            -set_cover_merge=1 -use_counters=0
    done
    exit 0
fi

# A run is SECONDS long with a random seed, or, with FUZZ_RUNS, that many executions from a
# fixed seed (FUZZ_SEED, default 1): the same binary and corpus then do the same run every
# time, so a CI run fails only on what a commit changed, never on luck. FUZZ_TIMEOUT (seconds,
# default 1) is the hang bound; CI, on a loaded machine, allows more.
if [ -n "${FUZZ_RUNS:-}" ]; then
    length=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
    what="$FUZZ_RUNS runs from seed ${FUZZ_SEED:-1}"
else
    length=(-max_total_time="$arg")
    what="${arg}s"
fi
for t in $targets; do
    corpus=("$new/$t" "fuzz/corpus/$t")
    if [ "${FUZZ_KEEP:-0}" = 1 ]; then
        corpus=("fuzz/corpus/$t")
    fi
    mkdir -p "${corpus[@]}"
    log="$new/$t.log"
    echo "fuzz: $t, $what"
    # -timeout: an input that takes longer is a hang; -rss_limit_mb: a blow-up.
    if ! cargo fuzz run "${flags[@]}" "$t" "${corpus[@]}" -- "${length[@]}" \
        -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        # The panic's message (its backtrace is long), then libFuzzer's verdict.
        grep -m1 -A1 'panicked at' "$log" >&2 || true
        grep -E '^(==[0-9]+== ERROR|SUMMARY|artifact_prefix|stat::)' "$log" >&2 || tail -n 30 "$log" >&2
        echo "fuzz: $t failed; the input is under fuzz/artifacts/$t/ (run it again with" \
            "${CARGO_TARGET_DIR:-target}/fuzz/$host/release/$t FILE)" >&2
        exit 1
    fi
    grep -E '^(Done|stat::)' "$log" || true
done
