#!/usr/bin/env bash
# The project's test command (CI runs exactly this): set-up, formatting, lints, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
# The compose files must stay valid, with and without the local-image override.
if command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=docker-compose bash scripts/compose-smoke.sh config
fi
