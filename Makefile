# The two commands of the README: `make demo` and `make test`. Both set themselves up.
SHELL := /bin/bash
PY ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
PORT ?= 8000

.PHONY: install demo test lint test-deps clean

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PY)" || { echo "Python >= 3.11 is required (python3 --version)"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || { echo "Could not create a virtual environment: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/supportdesk demo --port $(PORT)

test-deps:
	@bash .ci/system-deps

test: install test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
