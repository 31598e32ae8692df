# One command list for people, CI (.ci/run) and the Dockerfile alike.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEV_EVAL ?= ../shared/eval/questions-dev.tsv
HOST ?= 127.0.0.1
PORT ?= 8000

# The PostgreSQL pass of the suite (`make unit-pg`); .ci/postgres-start creates this role/database.
WARDBOT_TEST_PG ?= postgresql+psycopg://wardbot:wardbot@127.0.0.1:5432/wardbot

.PHONY: install run test lint typecheck unit unit-pg content audit bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Run the service on its embedded defaults: SQLite, and the local simulator instead of Zalo.
run: install
	$(BIN)/wardbot serve --host $(HOST) --port $(PORT)

## Everything CI checks. The PostgreSQL pass is skipped when no server answers, unless CI=true.
test: lint typecheck unit content unit-pg

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy app webhooks

unit: install
	$(BIN)/pytest

## The suite again on PostgreSQL, including the two-process test.
unit-pg: install
	@if $(BIN)/python -c "import sys, psycopg; psycopg.connect(sys.argv[1].replace('+psycopg', ''), connect_timeout=3).close()" '$(WARDBOT_TEST_PG)' 2>/dev/null; then \
		WARDBOT_TEST_DATABASE_URL='$(WARDBOT_TEST_PG)' $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "unit-pg: no PostgreSQL at $(WARDBOT_TEST_PG) (run .ci/postgres-start)"; exit 1; \
	else \
		echo "unit-pg: SKIPPED, no PostgreSQL answering (run .ci/postgres-start, or set WARDBOT_TEST_PG)"; \
	fi

## Known vulnerabilities in the installed dependencies (pip-audit, through PyPI's JSON API).
## Fails on a vulnerability; packages it could not look up are listed loudly, and fail too
## with WARDBOT_AUDIT_REQUIRED=1 (scripts/audit.py).
audit: install
	$(BIN)/pip install --quiet pip-audit
	$(BIN)/python scripts/audit.py

## The content is code too: the real catalogue validates and every example reaches its procedure.
content: install
	$(BIN)/wardbot validate
	$(BIN)/wardbot eval
	@if [ -f $(DEV_EVAL) ]; then $(BIN)/wardbot eval $(DEV_EVAL) --min-accuracy 0.97 --max-wrong 0.02 --min-rejected 0.95; fi

bench: install
	$(BIN)/python bench/bench_matcher.py
	$(BIN)/python bench/bench_announce.py
	$(BIN)/python bench/bench_webhook.py
	$(BIN)/python bench/bench_catalogue.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
