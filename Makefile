# The two commands of the README. Each creates .venv if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs lint clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Model comparison report on bundled real data (NLS Young Women 1968-88): every model, forecasts from 1980.
demo: $(STAMP)
	$(BIN)/laborseq compare --out reports/nlswork

# The default test suite (slow and GPU tests are left out; run them with: .venv/bin/pytest -m slow),
# after the import-linter contract of pyproject.toml (layers import downward only).
test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

# The documentation site (MkDocs, mkdocs.yml) built into site/ with warnings as errors.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site dist
