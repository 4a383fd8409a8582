# Every target first brings .venv up to date, so on a fresh machine one command does all the set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint format demo emulator bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[emulator,testing,policy,dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

emulator: $(STAMP)
	$(BIN)/python -m sigsentry_emulator --host 127.0.0.1 --port 8787 --db .emulator/sigsentry.db --demo

bench: $(STAMP)
	$(BIN)/python benchmarks/refresh_cost.py
	$(BIN)/python benchmarks/emulator_load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
