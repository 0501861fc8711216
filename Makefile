# paradec: `make report` runs the main job, `make test` runs the checks.
# Each target creates .venv and installs what it needs (torch pinned to the 2.13.0 CPU build).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := theory simulate realmodel paradec
export HYPOTHESIS_PROFILE ?= ci

.PHONY: install test test-fast test-kernels lint typecheck docs pytest pytest-kernel report \
	bench clean

PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev,docs,lmeval]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy $(PACKAGES)

pytest: $(STAMP)
	$(PYTEST)

# the tests that compare model outputs (FLOAT_TESTS in tests/kernels.py) again, under the
# next CPU kernel below the machine's own (avx512 -> avx2 -> default) and with 2 torch
# threads: a tolerance tuned to one kernel or an equality that holds for one thread count
# fails on any machine. The slow kill/resume and torchrun runs stay out of this pass (time);
# make test-kernels runs them under every kernel.
pytest-kernel: $(STAMP)
	ATEN_CPU_CAPABILITY=$$($(BIN)/python -m tests.kernels --other) PARADEC_TEST_THREADS=2 \
		$(PYTEST) -m "not slow" $$($(BIN)/python -m tests.kernels --float-tests)
	@# numpy's own SIMD loops one level down (tests.kernels --numpy-other; none: skipped)
	npy="$$($(BIN)/python -m tests.kernels --numpy-other)"; \
	if [ -n "$$npy" ]; then NPY_DISABLE_CPU_FEATURES="$$npy" $(PYTEST) \
		$$($(BIN)/python -m tests.kernels --numpy-tests); \
	else echo "numpy has no dispatch target on this CPU: numpy pass skipped"; fi

# editing loop: everything but the tests marked slow
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

# the whole suite under every kernel the CPU has, with 1 and 2 torch threads (docs/LOG.md)
test-kernels: $(STAMP)
	$(BIN)/python benchmarks/kernel_matrix.py --full

# the documentation site, into site/ (gitignored); any warning fails the build. It needs
# docs/results.md and docs/figures/*.png, which `make report` writes (and git holds).
docs: $(STAMP)
	$(BIN)/ruff check docs/api
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test: lint typecheck docs pytest pytest-kernel

report: $(STAMP)
	$(BIN)/paradec report

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_rules.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
