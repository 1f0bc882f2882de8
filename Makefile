# The two commands: `make dev` (set up and serve on :8000) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: dev serve install frontend demo test test-backend test-frontend lint format requirements backup restore clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

frontend:
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm run build; \
	else echo "frontend: not built yet (no frontend/package.json)"; fi

# Set up everything, load the MPEA demo datasets, serve API and dashboard on one port.
dev: install frontend
	$(PY) -m backend.cli init
	$(PY) -m backend.cli load-demo
	$(VENV)/bin/uvicorn backend.main:app --host $(HOST) --port $(PORT)

serve: install
	$(VENV)/bin/uvicorn backend.main:app --host $(HOST) --port $(PORT)

# A baseline task on the MPEA demo through the HTTP API; prints the statistics and MAE.
demo: install
	$(PY) scripts/demo.py

lint: install
	$(VENV)/bin/ruff check backend tests scripts alembic
	$(VENV)/bin/ruff format --check backend tests scripts alembic

format: install
	$(VENV)/bin/ruff format backend tests scripts alembic
	$(VENV)/bin/ruff check --fix backend tests scripts alembic

test-backend: install
	$(VENV)/bin/pytest -q tests

test-frontend:
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm test; \
	else echo "frontend: no tests yet"; fi

test: lint test-backend test-frontend

requirements:
	$(VENV)/bin/pip install --quiet uv
	$(VENV)/bin/uv pip compile --python-version 3.11 --no-header requirements.in -o requirements.txt

backup: install
	bash scripts/backup.sh

restore: install
	bash scripts/restore.sh $(FILE)

clean:
	rm -rf $(VENV) frontend/node_modules frontend/out
