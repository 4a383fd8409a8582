# Every target first brings .venv up to date, so on a fresh machine one command does all the set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The Pulumi CLI the demo, the tests and the benchmarks run (tools/pulumi/find-cli): a `pulumi` on
# PATH at least as new as the pin in tools/pulumi/go.mod, else the pinned build in .tools/bin/.
# `make test SIGSENTRY_PULUMI_CLI=/path/to/pulumi` forces one; `SIGSENTRY_PULUMI_CLI=.tools/bin/pulumi`
# forces the pinned build.
SIGSENTRY_PULUMI_CLI ?= $(shell tools/pulumi/find-cli)
export SIGSENTRY_PULUMI_CLI
BUILT_PULUMI := $(CURDIR)/.tools/bin/pulumi

.PHONY: test test-compat lint format demo emulator bench clean cli soak golden dist

# `editable_mode=compat`: the checkout's root goes on sys.path through a plain .pth line, which
# mypy follows; setuptools' default editable install is an import hook mypy cannot see, so mypy
# would not find `sigsentry_pulumi` when checking a program outside the checkout.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[emulator,policy,dev]' --config-settings editable_mode=compat
	touch $(STAMP)

# Built once per machine; again only when the pin (go.mod, go.sum) or the launchers change.
$(BUILT_PULUMI): tools/pulumi/go.mod tools/pulumi/go.sum tools/pulumi/build.sh tools/pulumi/launchers/*
	tools/pulumi/build.sh

# A CLI given from outside has no rule here: make only checks that the file exists.
cli: $(SIGSENTRY_PULUMI_CLI)

# The lint first, failing fast, then the tests.
test: lint cli
	$(BIN)/python -m pytest -n auto --dist loadgroup

# The supported range (docs/development.md#supported-versions): the provider, client and testing-kit
# suites and one real-CLI lifecycle under Python 3.11, 3.12 and 3.13 and under the lowest declared
# dependencies, each in its own virtualenv under .compat/ (tools/compat.py).
# `make test-compat COMPAT=lowest` runs one combination.
COMPAT ?=
test-compat: $(STAMP) cli
	$(BIN)/python -m tools.compat $(COMPAT)

# Many lifecycle walks (docs/lifecycle-checker.md): `make soak WALKS=200 STEPS=8`; SEED is the
# first walk's seed (default: the clock, so each soak walks new ground). Every walk's figures go
# to .soak/figures.jsonl and a summary is printed at the end.
WALKS ?= 50
STEPS ?= 8
SEED ?= $(shell date +%s)
soak: $(STAMP) cli
	mkdir -p .soak && rm -f .soak/figures.jsonl
	$(BIN)/python -m pytest tests/cli/test_lifecycle_walks_cli.py -n auto -q \
		--lifecycle-walks $(WALKS) --lifecycle-steps $(STEPS) --lifecycle-first-seed $(SEED) \
		--lifecycle-figures .soak/figures.jsonl; \
	status=$$?; $(BIN)/python tests/cli/lifecycle_model/figures.py .soak/figures.jsonl; exit $$status

# The stack this release's `pulumi up` writes, kept for the upgrade test (docs/upgrading.md): run
# once when a release is cut; a folder that exists is kept unless FORCE=1.
golden: $(STAMP) cli
	PYTHONPATH=.:tests $(BIN)/python -m cli.upgrade_support $(if $(FORCE),--force)

# ruff over the whole checkout; mypy (strict, pyproject's [tool.mypy]) over every Python folder:
# the packages, tools, scripts, the policy pack and tests in one run, then in runs of their own
# the folders whose module names would clash with those: benchmarks/, the example programs and the
# `pulumi new` template (each a `__main__`). mypy's cache makes reruns fast.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy benchmarks
	$(BIN)/mypy examples
	$(BIN)/mypy templates

# The sdist and the wheel of a release, in dist/: `build` (in the dev extra) makes them in an
# isolated environment with the build-system requirements of pyproject.toml.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP) cli
	$(BIN)/python scripts/demo.py

emulator: $(STAMP)
	$(BIN)/python -m sigsentry_emulator --host 127.0.0.1 --port 8787 --db .emulator/sigsentry.db --demo

# The quick benchmarks (about 5 minutes in all); benchmarks/faults.py runs apart (README there).
bench: $(STAMP) cli
	$(BIN)/python benchmarks/plugin_cost.py
	$(BIN)/python benchmarks/engine_cost.py --count 200
	$(BIN)/python benchmarks/refresh_cost.py
	$(BIN)/python benchmarks/emulator_load.py

clean:
	rm -rf $(VENV) .compat .tools .pytest_cache .mypy_cache .ruff_cache
