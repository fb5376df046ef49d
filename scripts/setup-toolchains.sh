#!/usr/bin/env bash
# Install the toolchains codistill's sandbox needs but this machine lacks (Debian/Ubuntu, as root).
#
#   sudo scripts/setup-toolchains.sh
#
# Checks each tool first and installs only what is missing, so running it twice is harmless.
# bubblewrap gives runs their namespaces; the rest are the eight languages' compilers/runtimes.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "setup-toolchains: run as root (sudo $0): it installs packages with apt-get" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-toolchains: apt-get not found; install by hand: bubblewrap, golang-go," \
         "node-typescript (with nodejs), a JDK, gcc, g++, rustc" >&2
    exit 1
fi

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
want() {  # want TOOL PACKAGE: queue PACKAGE when TOOL is absent
    if have "$1"; then
        echo "  present: $1 ($(command -v "$1"))"
    else
        echo "  missing: $1 -> apt package $2"
        missing+=("$2")
    fi
}

echo "setup-toolchains: checking"
want bwrap bubblewrap
want node nodejs
want tsc node-typescript
want javac default-jdk-headless
want gcc gcc
want g++ g++
want go golang-go
if have rustc || [ -x "${HOME:-/root}/.cargo/bin/rustc" ]; then
    echo "  present: rustc"
else
    echo "  missing: rustc -> apt package rustc"
    missing+=(rustc)
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "setup-toolchains: nothing to do, every toolchain is present"
    exit 0
fi
echo "setup-toolchains: apt-get update"
apt-get update -qq
echo "setup-toolchains: installing ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-toolchains: installed ${missing[*]}"
