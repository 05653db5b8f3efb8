# Coproduce: `make run` serves the app, `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HTMX_VERSION := 2.0.11
VENDOR := webapp/static/vendor
CHROMIUM ?= /usr/bin/chromium
export FLASK_APP := webapp:create_app
# Both cores: each test worker has its own database (on PostgreSQL, see .ci/postgres-database).
PYTEST_ARGS ?= -n 2

.PHONY: safety safety-model run test lint format install vendor chromium redis wrk bench lighthouse test-python test-browser migrate messages clean

$(BIN)/activate: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate

## Fetch the pinned htmx from the npm registry, with its licence (the files are committed).
vendor:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && \
	  tar -xzf htmx.org-$(HTMX_VERSION).tgz && cd - >/dev/null && \
	  cp $$tmp/package/dist/htmx.min.js $(VENDOR)/htmx.min.js && \
	  cp $$tmp/package/LICENSE $(VENDOR)/htmx.LICENSE && \
	  echo "htmx.org $(HTMX_VERSION) from the npm registry" > $(VENDOR)/README && \
	  rm -rf $$tmp && echo "htmx $(HTMX_VERSION) is in $(VENDOR)/"

## Retrain the crisis net's learned layer from content/safety (fixed seed: same data, same file).
safety-model: install
	COPRODUCE_ENV=development $(BIN)/flask safety train

## Serve the app in development on http://localhost:$(PORT), with demo data on first run.
run: install
	mkdir -p instance
	COPRODUCE_ENV=development $(BIN)/flask db upgrade
	COPRODUCE_ENV=development PORT=$(PORT) $(BIN)/flask demo
	COPRODUCE_ENV=development PORT=$(PORT) $(BIN)/flask run --host localhost --port $(PORT)

migrate: install
	$(BIN)/flask db upgrade

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Debian's Chromium for the browser tests (never a downloaded browser build).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing. Install it with: sudo apt-get install -y chromium"; exit 1; \
	  fi; \
	fi

## Redis on 127.0.0.1:6379 for the test of shared rate limits (started when not answering).
redis:
	@if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
	  if ! command -v redis-server >/dev/null; then \
	    if [ "$$(id -u)" = "0" ]; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	    else \
	      echo "Redis is missing. Install it with: sudo apt-get install -y redis-server"; exit 1; \
	    fi; \
	  fi; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; \
	  sleep 1; \
	fi

test-python: install redis
	$(BIN)/python -m pytest -q -m "not browser" $(PYTEST_ARGS)

test-browser: install chromium
	$(BIN)/python -m pytest -q -m browser $(PYTEST_ARGS)

## The crisis net's bars on its tuning corpus (the held-out set is measured and printed too;
## it is below the bar today: see docs/clinical-safety.md, H4).
safety: install
	COPRODUCE_ENV=development $(BIN)/flask safety check --gate corpus.yaml

test: lint safety test-python test-browser

## Collect every interface string into webapp/translations/messages.pot for translators.
messages: install
	mkdir -p webapp/translations
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o webapp/translations/messages.pot .

## Debian's wrk, the load generator for `make bench`.
wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "wrk is missing. Install it with: sudo apt-get install -y wrk"; exit 1; \
	  fi; \
	fi

## Every page under load at small and large scale beside a bare "hello"; writes docs/benchmarks.md.
bench: install wrk
	$(BIN)/python bench/run.py

## Lighthouse (mobile) for every page in bench/pages.py; writes docs/lighthouse.md.
LIGHTHOUSE_VERSION := 12.8.2
lighthouse: install chromium
	@[ -x .lighthouse/node_modules/.bin/lighthouse ] || \
	  npm install --silent --no-audit --no-fund --prefix .lighthouse lighthouse@$(LIGHTHOUSE_VERSION)
	$(BIN)/python bench/lighthouse.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
