#!/usr/bin/env bash
# Installs what building and testing kafka-gen needs beyond the Rust toolchain, skipping what is
# already there: the C toolchain pieces rdkafka's bundled librdkafka builds with.
set -euo pipefail

apt_packages=(cmake pkg-config libssl-dev libsasl2-dev zlib1g-dev libzstd-dev)
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
