# Portico: `make run` starts the product with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test setup lint bench clean

run: setup
	$(VENV)/bin/portico run

test: setup
	@scripts/ensure-chromium
	$(VENV)/bin/pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev,test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

BENCHMARKS := bench/links.py bench/link_floor.py bench/portal.py bench/automation.py bench/statements.py bench/sync.py

bench: setup
	@for b in $(BENCHMARKS); do echo "== $$b"; (cd bench && ../$(VENV)/bin/python $$(basename $$b)) || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache
