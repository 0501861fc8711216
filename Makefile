# paradec: `make report` runs the main job, `make test` runs the checks.
# Each target creates .venv and installs what it needs (torch pinned to the 2.13.0 CPU build).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := theory simulate realmodel paradec
export HYPOTHESIS_PROFILE ?= ci

.PHONY: install test lint typecheck docs pytest report bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev,docs]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy $(PACKAGES)

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# the documentation site, into site/ (gitignored); any warning fails the build. It needs
# docs/results.md and docs/figures/*.png, which `make report` writes (and git holds).
docs: $(STAMP)
	$(BIN)/ruff check docs/api
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test: lint typecheck docs pytest

report: $(STAMP)
	$(BIN)/paradec report

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_rules.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
