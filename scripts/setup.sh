#!/usr/bin/env bash
# Installs what testing kafka-gen needs beyond the Rust toolchain, skipping what is already
# there. Building kafka-gen itself needs nothing from here: every C library it links is built
# from vendored sources (see README "Run it; test it").
#   - debootstrap: scripts/standins.sh makes the stand-in base images from it;
#   - busybox-static: the health-check tools of the registry-free Tansu image;
#   - the Python confluent-kafka client, which independently counts what reached the broker;
#   - PyYAML and jsonschema, which read the shipped worlds as a YAML 1.1 tool does;
#   - the Tansu broker itself.
# scripts/stock-check.sh runs this script on a fresh Debian to keep it complete.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_install() {
  echo "setup: installing $*"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

apt_packages=(debootstrap busybox-static)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# A machine whose Python has no pip (a bare Debian) gets Debian's.
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# The independent client the Kafka end-to-end tests count arrivals with. Debian's own Python
# refuses system-wide pip installs (PEP 668) unless told to.
if ! python3 -c "import confluent_kafka" >/dev/null 2>&1; then
  echo "setup: installing the Python confluent-kafka client"
  python3 -m pip install --quiet confluent-kafka 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages confluent-kafka
fi

# A YAML 1.1 reader and a JSON Schema validator: scripts/check_yaml11.py checks that the
# shipped worlds and the READMEs' examples are valid world files to other tools too.
if ! python3 -c "import yaml, jsonschema" >/dev/null 2>&1; then
  echo "setup: installing PyYAML and jsonschema"
  python3 -m pip install --quiet pyyaml jsonschema 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages pyyaml jsonschema
fi

# The Kafka-protocol broker the end-to-end test runs against; built once, then reused.
# SETUP_BROKER=0 leaves it out (scripts/test.sh builds it beside the lints instead).
if [ "${SETUP_BROKER:-1}" != 0 ]; then
  bash "$(dirname "$0")/dev-broker.sh" install
fi
