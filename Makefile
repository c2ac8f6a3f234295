# Every target builds .venv when missing and reinstalls only when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fuzz mutation lint serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@ $(VENV)/.installed-dev

demo: $(VENV)/.installed-dev
	$(BIN)/clvbid demo
	$(BIN)/clvbid scenario run scenarios/demo.yaml

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

# Schemathesis with FUZZ_EXAMPLES examples per operation, a fresh random seed each run (printed
# with any failure) and every check; the whole run is stopped after FUZZ_SECONDS.
FUZZ_EXAMPLES ?= 100
FUZZ_SECONDS ?= 300
test-fuzz: $(VENV)/.installed-dev
	CLVBID_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) timeout $(FUZZ_SECONDS) \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/api/test_openapi_fuzz.py

$(VENV)/.installed-mutation: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $@ $(VENV)/.installed-dev

# mutmut on the modules and tests of [tool.mutmut] in pyproject.toml, one worker, stopped after
# MUTATION_SECONDS; then the surviving mutants (`mutmut show <name>` prints one).
MUTATION_SECONDS ?= 2400
mutation: $(VENV)/.installed-mutation
	-timeout $(MUTATION_SECONDS) nice -n 10 $(BIN)/mutmut run --max-children 1
	$(BIN)/mutmut results

serve: $(VENV)/.installed-dev
	$(BIN)/clvbid serve --host 127.0.0.1 --port 8000

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache mutants
