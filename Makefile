# quytrinh — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-dev translations migrate demo serve bench lint-library clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d web/translations
	$(BIN)/pybabel compile -d web/translations -D wtforms
	@if [ -d bpmn/locale ]; then $(BIN)/pybabel compile -d bpmn/locale -D lint; fi

migrate: install
	$(BIN)/quytrinh db upgrade

demo: migrate
	$(BIN)/quytrinh demo

serve: install
	$(BIN)/quytrinh serve --host $(HOST) --port $(PORT)

run: demo serve

# The layers first (import-linter, contracts in pyproject.toml): an import against them fails the run.
test: install-dev
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
