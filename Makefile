# One command runs Steward, one command tests it; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck bench clean

$(VENV): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)

run: $(VENV)
	$(BIN)/steward run

test: $(VENV)
	$(BIN)/python -m pytest

lint: $(VENV)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) data/*.db data/*.db-*
