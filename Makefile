# One command runs Steward, one command tests it; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run console web test lint typecheck bench train quality clean

$(VENV): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)

run: $(VENV)
	$(BIN)/steward run

# Talk to Steward in this terminal, in the community `make run` left in the database.
console: $(VENV)
	$(BIN)/steward run --console

# The web portal over the same database (http://127.0.0.1:8080); sign in with the link `make run` printed.
web: $(VENV)
	$(BIN)/steward web

test: $(VENV)
	$(BIN)/python -m pytest

lint: $(VENV)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Fit the reply-link model on the annotated shards (and the leave-one-shard-out models for `make quality`),
# and the answer-doubt model on their answered gold.
train: $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,train]'
	$(BIN)/python training/train_reply_links.py --folds build/reply-links
	$(BIN)/python training/train_answer_doubt.py

quality: $(VENV)
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/quality.py --links model --folds build/reply-links

bench: $(VENV)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) data/*.db data/*.db-*
