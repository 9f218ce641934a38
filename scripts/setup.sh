#!/usr/bin/env bash
# Installs what building and testing kafka-gen needs beyond the Rust toolchain, skipping what is
# already there: the C libraries the bundled librdkafka builds with, the Python Kafka client
# that independently counts what reached the broker, and the Tansu broker itself.
set -euo pipefail

# busybox-static gives the registry-free compose images their health-check tools.
apt_packages=(cmake pkg-config libssl-dev libsasl2-dev zlib1g-dev libzstd-dev busybox-static)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The independent client the Kafka end-to-end test counts arrivals with.
if ! python3 -c "import confluent_kafka" >/dev/null 2>&1; then
  echo "setup: installing the Python confluent-kafka client"
  python3 -m pip install --quiet confluent-kafka
fi

# The Kafka-protocol broker the end-to-end test runs against; built once, then reused.
bash "$(dirname "$0")/dev-broker.sh" install
