# Community Supports Hub — the two commands: `make demo` and `make test`.
# Only Python 3.11+ and pip are needed; everything else is installed from uv.lock into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/cshub
export UV_LINK_MODE := copy
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test install check lint format test-sqlite test-postgres test-browser browser-deps letter-deps migrations-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade >/dev/null
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"

# Install exactly what uv.lock pins (re-run when the lock changes).
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(BIN)/python
	touch $@

install: letter-deps $(VENV)/.installed

demo: install
	$(BIN)/cshub demo

check: install lint migrations-check

lint: install
	$(BIN)/ruff check cshub tests benchmarks
	$(BIN)/ruff format --check cshub tests benchmarks

format: install
	$(BIN)/ruff format cshub tests benchmarks
	$(BIN)/ruff check --fix cshub tests benchmarks

migrations-check: install
	CSHUB_VAR_DIR=$(CURDIR)/var/check $(BIN)/cshub makemigrations --check --dry-run

# The whole suite: lint, SQLite, PostgreSQL (when one answers at 127.0.0.1:5432), then the browser tests.
test: check test-sqlite test-postgres test-browser

test-sqlite: install
	$(BIN)/python -m pytest -n 2 -m "not browser" -q

test-postgres: install
	@if $(BIN)/python -m cshub.devtools.pg_ready "$(PG_TEST_URL)"; then \
		DATABASE_URL="$(PG_TEST_URL)" $(BIN)/python -m pytest -n 2 -m "not browser" -q; \
	else \
		echo "SKIPPED the PostgreSQL leg: no PostgreSQL answers at $(PG_TEST_URL) (set PG_TEST_URL to run it)."; \
	fi

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

# PDF letters (WeasyPrint) need Pango and a font. Installed when root on Debian; otherwise a warning, since
# everything but letters works without them.
letter-deps:
	@{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q libpango-1.0 || { \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; \
		else echo "PDF letters need Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"; fi; }

test-browser: install browser-deps
	$(BIN)/python -m pytest -m browser -q -p no:xdist

bench: install
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) var
