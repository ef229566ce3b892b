# The two commands a fresh clone needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PORT ?= 8000

.PHONY: run test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

## run: the service on http://127.0.0.1:$(PORT) against an embedded DynamoDB (moto), admin token printed
run: $(VENV)/.installed
	exec $(VENV)/bin/openindex-local --port $(PORT)

## test: lint (ruff) and the whole test suite (moto-backed, no network, no AWS account)
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) .pytest_cache
