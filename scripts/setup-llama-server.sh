#!/usr/bin/env bash
# Installs llama-cpp-python's OpenAI-compatible server into its own virtualenv (.venv-llama) for the
# slow tests that drive codistill through a real llama.cpp server (tests/models/test_llama_cpp_server.py).
# It builds llama.cpp from source: about 5 minutes on 2 CPU cores. Idempotent.
#   LLAMA_VENV   where to put it (default .venv-llama)
#
# The build is portable (AVX2, no AVX-512, no AMX) rather than -march=native: these machines are
# VMs whose CPUs report AMX while the kernel does not let a process use it, so a native build dies
# of a general protection fault (ldtilecfg in ggml's AMX matmul) on its first token. And pip's wheel
# cache is bypassed, so a native wheel built earlier can never be picked up instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LLAMA_VENV=${LLAMA_VENV:-.venv-llama}
VERSION=0.3.36
SPEC="llama-cpp-python[server]==$VERSION"
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
FLAGS="$FLAGS -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
BUILT="$LLAMA_VENV/.llama-build-flags"

if "$LLAMA_VENV/bin/python" -c "import llama_cpp.server" 2>/dev/null && [ "$(cat "$BUILT" 2>/dev/null)" = "$SPEC $FLAGS" ]; then
    echo "setup-llama-server: $SPEC already in $LLAMA_VENV"
    exit 0
fi
if ! command -v c++ >/dev/null 2>&1 && ! command -v g++ >/dev/null 2>&1; then
    echo "setup-llama-server: building llama.cpp needs a C++ compiler (apt-get install build-essential)" >&2
    exit 1
fi
[ -x "$LLAMA_VENV/bin/python" ] || "$PY" -m venv "$LLAMA_VENV"
echo "setup-llama-server: building $SPEC (about 5 minutes on 2 cores)"
started=$(date +%s)
# A CPU build; its own environment, since its pinned dependencies are not codistill's.
CMAKE_ARGS="$FLAGS" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    "$LLAMA_VENV/bin/python" -m pip --disable-pip-version-check -q install --no-cache-dir \
    --force-reinstall --no-deps "llama-cpp-python==$VERSION"
"$LLAMA_VENV/bin/python" -m pip --disable-pip-version-check -q install "$SPEC"
"$LLAMA_VENV/bin/python" -c "import llama_cpp.server"
echo "$SPEC $FLAGS" > "$BUILT"
echo "setup-llama-server: done in $(( $(date +%s) - started )) s"
