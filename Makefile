# `make run`: set everything up and run the demo distillation on the embedded models (CPU).
# `make test`: set everything up and run the whole test suite (slow tests included).
VENV ?= .venv
STAMP := $(VENV)/.codistill-setup
LLAMA_VENV ?= .venv-llama
LLAMA_STAMP := $(LLAMA_VENV)/.codistill-setup

.PHONY: run test setup bench lint clean

run: $(STAMP)
	$(VENV)/bin/codistill run --config configs/demo.yaml

test: $(STAMP) $(LLAMA_STAMP)
	CODISTILL_LLAMA_PYTHON=$(abspath $(LLAMA_VENV))/bin/python $(VENV)/bin/python -m pytest -n 2 --dist loadgroup

setup $(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

# llama.cpp's server for the slow tests that drive codistill through it (its own virtualenv).
$(LLAMA_STAMP): scripts/setup-llama-server.sh
	LLAMA_VENV=$(LLAMA_VENV) bash scripts/setup-llama-server.sh
	touch $(LLAMA_STAMP)

bench: $(STAMP)
	$(VENV)/bin/python bench/sandbox.py
	$(VENV)/bin/python bench/generation.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) $(LLAMA_VENV) build *.egg-info
