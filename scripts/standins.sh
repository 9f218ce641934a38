#!/usr/bin/env bash
# Local stand-ins for the images kafka-gen builds FROM, for a machine that cannot pull from a
# registry (ours cannot). Each is made only when no image of that name exists, so a machine
# that has the real ones keeps them, and a second run costs nothing.
#
#   scripts/standins.sh            # makes whichever of the three is missing
#
#   debian:bookworm-slim       `debootstrap --variant=minbase bookworm` piped into `docker import`
#   rust:1-bookworm            that, plus the build packages the upstream image has, plus this
#                              machine's Rust toolchain (rustup's active one) copied in
#   kafka-gen-standin/stock    a "stock machine": Debian with Rust, gcc, g++, make and perl only,
#                              for scripts/stock-check.sh (g++: librdkafka always builds its C++
#                              wrapper, by cmake or by its configure script)
#
#   ROOTFS_CACHE   where the debootstrap tree is kept (default /var/cache/kafka-gen)
#   DEBIAN_MIRROR  (default http://deb.debian.org/debian)
#
# Behind an HTTPS-inspecting proxy, cargo inside a container trusts only the image's CA bundle.
# The two images that run cargo therefore get this machine's bundle
# (/etc/ssl/certs/ca-certificates.crt) in place of their own; see README "Behind a proxy".
set -euo pipefail
cd "$(dirname "$0")/.."

ROOTFS_CACHE="${ROOTFS_CACHE:-/var/cache/kafka-gen}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HOST_CA=/etc/ssl/certs/ca-certificates.crt

say() { echo "standins: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

command -v docker >/dev/null || die "docker is not installed"

# The Rust toolchain to copy in: rustup's active one, without its 800 MB of HTML docs.
toolchain_dir() {
    local sysroot
    sysroot="$(rustc --print sysroot)" || die "no Rust toolchain on this machine"
    echo "$sysroot"
}

# A build context with the toolchain and the host's CA bundle, streamed to `docker build`.
# $1: image tag, $2: Dockerfile text (reads ./rust and ./host-ca.crt from the context).
build_with_toolchain() {
    local tag="$1" dockerfile="$2" ctx
    ctx="$(mktemp -d)"
    trap 'rm -rf "$ctx"' RETURN
    mkdir -p "$ctx/rust"
    # Hard links where the file system allows (no copy of 600 MB), a copy elsewhere.
    cp -al "$(toolchain_dir)/." "$ctx/rust/" 2>/dev/null || cp -a "$(toolchain_dir)/." "$ctx/rust/"
    rm -rf "$ctx/rust/share/doc"
    if [[ -r "$HOST_CA" ]]; then cp "$HOST_CA" "$ctx/host-ca.crt"; else : >"$ctx/host-ca.crt"; fi
    printf '%s\n' "$dockerfile" >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null
}

# The part of each Rust image that installs the toolchain and, if given, the host's CA bundle.
RUST_LAYERS='COPY rust /usr/local/rust
COPY host-ca.crt /tmp/host-ca.crt
RUN if [ -s /tmp/host-ca.crt ]; then mkdir -p /etc/ssl/certs && cp /tmp/host-ca.crt /etc/ssl/certs/ca-certificates.crt; fi; rm /tmp/host-ca.crt
ENV PATH=/usr/local/rust/bin:$PATH CARGO_HOME=/usr/local/cargo SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
RUN mkdir -p /usr/local/cargo && rustc --version && cargo --version'

if have debian:bookworm-slim; then
    say "debian:bookworm-slim is there"
else
    rootfs="$ROOTFS_CACHE/rootfs-bookworm"
    if [[ ! -x "$rootfs/bin/bash" ]]; then
        command -v debootstrap >/dev/null || die "debootstrap is missing; run scripts/setup.sh"
        say "debootstrap --variant=minbase bookworm (about a minute)"
        rm -rf "$rootfs" && mkdir -p "$ROOTFS_CACHE"
        debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >/dev/null \
            || die "debootstrap failed"
    fi
    tar -C "$rootfs" -c . | docker import - debian:bookworm-slim >/dev/null
    say "made debian:bookworm-slim from $rootfs"
fi

if have rust:1-bookworm; then
    say "rust:1-bookworm is there"
else
    say "making rust:1-bookworm (the upstream image's build packages and this machine's Rust)"
    # buildpack-deps:bookworm's packages that a Rust build can meet, libcurl's headers among them.
    build_with_toolchain rust:1-bookworm "FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      ca-certificates curl wget git gcc g++ make libc6-dev perl pkg-config xz-utils \\
      libssl-dev zlib1g-dev libcurl4-openssl-dev \\
    && rm -rf /var/lib/apt/lists/*
$RUST_LAYERS"
    say "made rust:1-bookworm"
fi

if have kafka-gen-standin/stock; then
    say "kafka-gen-standin/stock is there"
else
    say "making kafka-gen-standin/stock (Debian with Rust, gcc, g++, make and perl only)"
    build_with_toolchain kafka-gen-standin/stock "FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      ca-certificates gcc g++ libc6-dev make perl \\
    && rm -rf /var/lib/apt/lists/*
$RUST_LAYERS"
    say "made kafka-gen-standin/stock"
fi
