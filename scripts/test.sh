#!/usr/bin/env bash
# The project's test command (CI runs exactly this): set-up, formatting, lints, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
