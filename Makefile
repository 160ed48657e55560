# The two commands: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# the development issuer (the `iss` of tokens, the base of every printed URL)
# follows HOST and PORT unless AUTHSERVER_ISSUER is set; only for the targets
# that serve or print URLs (the tests set their own)
run serve demo migrate: export AUTHSERVER_ISSUER ?= http://$(HOST):$(PORT)
# the production server (Granian, authserver/serving.py) in a supervisor that drains it on SIGTERM;
# the app writes its own access log (no secret in it): the server's stays off
SERVE = $(BIN)/authserver serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

.PHONY: run test lint format install install-test migrate demo serve browser nginx bench clean screenshots

PIP_INSTALL = $(BIN)/python -m pip install --quiet --disable-pip-version-check

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 ($(PYTHON)) is required"; exit 1; }
	@echo "Creating the virtual environment $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP_INSTALL) --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	@echo "Installing authserver and its dependencies into $(VENV) (about a minute)"
	@$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	@echo "Installing the test tools into $(VENV)"
	@$(PIP_INSTALL) -e '.[test]'
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## migrate the database (SQLite in ./instance unless AUTHSERVER_DATABASE_URL is set)
migrate: install
	$(BIN)/authserver db upgrade

## load the demo directory and print fresh demo credentials (refused in production)
demo: migrate
	$(BIN)/authserver demo setup

## serve on $(HOST):$(PORT) with the production server; SIGTERM drains (AUTHSERVER_DRAIN_SECONDS)
serve: install
	exec $(SERVE)

## check that $(HOST):$(PORT) is free, then install, migrate, load the demo data and serve:
## safe to run again
run: install
	@$(BIN)/python -m authserver.free_port $(HOST) $(PORT)
	@$(BIN)/authserver db upgrade
	@$(BIN)/authserver demo setup
	exec $(SERVE)

# In development the server delivers mail itself (a background thread; .eml
# files under ./instance/mail without AUTHSERVER_SMTP_URL) and groups failed
# exports for 10 s instead of 15 min, so the demo's mail shows up at once.
run demo serve: export AUTHSERVER_MAIL_DIGEST_WINDOW ?= 10

# The console's browser tests drive Debian's Chromium (Playwright for Python,
# from the test extra, needs no browser download). Installed when missing and
# when we may (root); otherwise those tests skip and say why.
CHROMIUM := /usr/bin/chromium

browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
		echo "Could not install chromium: the browser tests will be skipped"; \
	else \
		echo "$(CHROMIUM) is missing and apt-get needs root: the browser tests will be skipped"; \
	fi

# The balancer end-to-end tests run Debian's nginx the same way.
NGINX := /usr/sbin/nginx

nginx:
	@if [ -x $(NGINX) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's nginx for the balancer tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null || \
		echo "Could not install nginx: the balancer tests will be skipped"; \
	else \
		echo "$(NGINX) is missing and apt-get needs root: the balancer tests will be skipped"; \
	fi

## the whole suite, in TEST_WORKERS processes (pytest-xdist; a module stays on one worker)
TEST_WORKERS ?= 2
test: install-test browser nginx
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

## the README's screenshots (docs/*.png), from the demo data, by the browser test that makes them
screenshots: install-test browser
	AUTHSERVER_SCREENSHOTS_DIR=$(CURDIR)/docs $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/console/test_browser.py -k readme_screenshots

LINTED := authserver tests bench examples wsgi.py

## lint, import order, formatting and types, as CI checks them
lint: install-test
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

## rewrite the code in the project's format (ruff), fixing what ruff can
format: install-test
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

## token-endpoint benchmark (see bench/README.md); not part of the test suite
bench: install-test
	$(BIN)/python bench/token_endpoint.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
