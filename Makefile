# `make run`: set everything up and run the demo distillation on the embedded models (CPU).
# `make test`: set everything up and run the whole test suite (slow tests included).
VENV ?= .venv
STAMP := $(VENV)/.codistill-setup

.PHONY: run test setup bench lint clean

run: $(STAMP)
	$(VENV)/bin/codistill run --config configs/demo.yaml

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup

setup $(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

bench: $(STAMP)
	$(VENV)/bin/python bench/sandbox.py
	$(VENV)/bin/python bench/generation.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) build *.egg-info
