# One command list for people, CI (.ci/run) and the Dockerfile alike.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEV_EVAL ?= ../shared/eval/questions-dev.tsv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck unit content bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Run the service on its embedded defaults: SQLite, and the local simulator instead of Zalo.
run: install
	$(BIN)/wardbot serve --host $(HOST) --port $(PORT)

## Everything CI checks.
test: lint typecheck unit content

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy app webhooks

unit: install
	$(BIN)/pytest

## The content is code too: the real catalogue validates and every example reaches its procedure.
content: install
	$(BIN)/wardbot validate
	$(BIN)/wardbot eval
	@if [ -f $(DEV_EVAL) ]; then $(BIN)/wardbot eval $(DEV_EVAL) --min-accuracy 0.97 --max-wrong 0.02 --min-rejected 0.95; fi

bench: install
	$(BIN)/python bench/bench_matcher.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
