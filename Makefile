# Reviewflow: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
DB_URL ?= sqlite:///var/reviewflow.db
NODE_STAMP := node_modules/.installed-$(shell sha256sum package-lock.json | cut -c1-12)
GOVUK := app/web/static/govuk
CSS := $(GOVUK)/reviewflow.css

.PHONY: setup assets migrate deploy run test check lint openapi bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The inbox's front end: GOV.UK Frontend (npm, pinned in package-lock.json) compiled with the
# Board's settings (app/web/assets/reviewflow.scss), and axe-core for the accessibility tests.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -f node_modules/.installed-*
	touch $(NODE_STAMP)

$(CSS): $(NODE_STAMP) $(wildcard app/web/assets/*.scss)
	mkdir -p $(GOVUK)
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
		--load-path=node_modules app/web/assets/reviewflow.scss $(CSS)
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(GOVUK)/

assets: $(CSS)

setup: $(STAMP) $(CSS)

migrate: setup
	mkdir -p var
	REVIEWFLOW_DATABASE_URL=$(DB_URL) $(BIN)/reviewflow db upgrade

deploy: migrate
	REVIEWFLOW_DATABASE_URL=$(DB_URL) REVIEWFLOW_PROCESSES_DIR=processes $(BIN)/reviewflow deploy

run: deploy
	REVIEWFLOW_DATABASE_URL=$(DB_URL) $(BIN)/reviewflow demo
	REVIEWFLOW_DATABASE_URL=$(DB_URL) $(BIN)/reviewflow serve --host 127.0.0.1 --port 8000

# The gate: style, strict types on app/ and the layer contracts (pyproject.toml), before any test.
check: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

lint: check

test: check
	$(BIN)/pytest

openapi: setup
	$(BIN)/reviewflow openapi > openapi/openapi.json

bench: setup
	$(BIN)/python bench/engine_overhead.py
	$(BIN)/python bench/task_query.py

clean:
	rm -rf $(VENV) var node_modules $(GOVUK) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
