# The two commands: `make dev` (set up and serve on :8000) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: dev serve install frontend api-types demo test test-backend test-frontend lint format requirements \
	backup restore create-admin bench stop-db clean system-tools bench-tools test-stack

# requirements-dev.txt is requirements.txt (the production set) plus test and lint tools.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/package-lock.json \
	frontend/vite.config.ts -type f 2>/dev/null)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

# The dashboard's API types come from the backend's own OpenAPI document, never by hand.
api-types: install frontend/node_modules/.package-lock.json
	$(PY) -c "import json; from backend.main import app; print(json.dumps(app.openapi()))" \
		> frontend/openapi.json
	cd frontend && npm run gen:api

frontend/out/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES) \
		$(shell find backend -name '*.py')
	$(MAKE) api-types
	cd frontend && npm run build

frontend: frontend/out/index.html

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

lint: install frontend/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd frontend && npm run lint
	bash scripts/lint-ops.sh

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test-backend: install
	$(VENV)/bin/pytest -q tests

# Unit tests, then the dashboard end to end in headless Chromium against a real backend.
test-frontend: install
	cd frontend && npm ci --no-audit --no-fund
	$(MAKE) api-types
	cd frontend && npm test && npm run build && npm run e2e

# The system tools the suites (and the benchmarks) use, Debian packages: installed when missing and
# running as root, else the one command that installs them, before anything else runs.
SYSTEM_TOOLS := chromium:chromium shellcheck:shellcheck nginx:nginx-light
BENCH_TOOLS := wrk:wrk valgrind:valgrind callgrind_control:valgrind
system-tools:
	@$(call install_missing,$(SYSTEM_TOOLS),make test)
bench-tools:
	@$(call install_missing,$(BENCH_TOOLS),make bench)

# $(1): command:package pairs; $(2): what needs them.
define install_missing
	missing=""; for pair in $(1); do \
		PATH="$$PATH:/usr/sbin" command -v "$${pair%%:*}" >/dev/null || missing="$$missing $${pair#*:}"; \
	done; \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	if [ -n "$${missing// /}" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "$(2) needs: $$missing. Run: sudo apt-get install -y $$missing" >&2; exit 1; \
		fi; \
		echo "installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

# The whole suite: lint, backend (real PostgreSQL, fake LLM over HTTP), operations, dashboard.
test: system-tools lint test-backend test-frontend

# The production stack built and run here (Docker, compose, both images, backups, restore on a
# second stack): tests/stack/run.sh. Installs docker.io and debootstrap when missing (root).
test-stack: install frontend/node_modules/.package-lock.json
	bash tests/stack/run.sh

# Re-pin after editing requirements.in or requirements-dev.in.
requirements:
	$(VENV)/bin/pip install --quiet uv
	$(VENV)/bin/uv pip compile --python-version 3.11 --no-header requirements.in -o requirements.txt
	$(VENV)/bin/uv pip compile --python-version 3.11 --no-header requirements-dev.in \
		-o requirements-dev.txt

backup: install
	bash scripts/backup.sh

restore: install
	bash scripts/restore.sh $(FILE)

# An account for a server run with accounts (ENVIRONMENT=production or AUTH_REQUIRED=true).
create-admin: install
	$(PY) -m backend.cli create-admin $(NAME)

# Every quality bar of DESIGN.md, measured; writes docs/BENCHMARKS.md.
bench: install bench-tools
	$(PY) -m bench

# The embedded PostgreSQL outlives the API (like a system service); this stops it.
stop-db: install
	$(PY) -m backend.db.embedded stop

clean:
	rm -rf $(VENV) frontend/node_modules frontend/out
