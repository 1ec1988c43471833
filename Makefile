# Packyard — one command to run, one to test.
#   make run    start the whole platform locally (gateway on http://127.0.0.1:8080)
#   make test   the whole test suite against PostgreSQL and RabbitMQ (lint and the fast layer first)
#   make lint   ruff and mypy over shared/ and every service
#   make test-unit  the fast layer alone: use-case and consumer tests that need no server (seconds)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SERVICES := identity social catalog notifier signing web
STAMP := $(VENV)/.installed

# Where the test suite finds its servers when no Docker engine is reachable. A local RabbitMQ is
# administered with rabbitmqctl; PACKYARD_TEST_RABBITMQ_API (its management API) is needed only
# for a remote broker.
export PACKYARD_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export PACKYARD_TEST_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/

.PHONY: install run test test-env test-unit test-fast lint bench clean

$(STAMP): shared/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml) requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e 'shared[testing]' $(foreach s,$(SERVICES),-e services/$(s))
	touch $@

# bintray-python pins an old `requests`, so the compatibility tests drive it from its own virtualenv.
BINTRAY_STAMP := .venv-bintray/.installed
$(BINTRAY_STAMP):
	$(PYTHON) -m venv .venv-bintray
	.venv-bintray/bin/pip install --quiet 'bintray-python==0.8.0'
	touch $@

install: $(STAMP) $(BINTRAY_STAMP)

run: install
	$(BIN)/python deploy/local/run.py

# System packages, and local PostgreSQL/RabbitMQ started when installed but stopped.
test-env:
	bash scripts/test-env.sh

# The fast layer: every tests/unit directory (SQLite and fakes; packyard.testing.unit fails a test there
# that asks for a server). `make test` runs it first, then the integration suite without it.
UNIT_TESTS := shared/tests/unit $(wildcard services/*/tests/unit)

test-unit:
	$(MAKE) --no-print-directory install
	$(BIN)/pytest -q $(UNIT_TESTS)

# Cheap checks first: lint, then the fast layer, then the integration suite.
test: test-env
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-unit
	PYTEST_ADDOPTS="--ignore-glob=*/tests/unit" $(BIN)/pytest

test-fast: test-env
	$(MAKE) --no-print-directory install
	$(BIN)/pytest -m "not e2e"

# ruff (pycodestyle, pyflakes, import order, bugbear, pyupgrade; ruff.toml) and mypy (mypy.ini).
LINT_PATHS := shared services tests bench deploy examples scripts
TYPED_PACKAGES := shared/packyard $(foreach s,$(SERVICES),services/$(s)/$(s))
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy $(TYPED_PACKAGES)

bench: install
	$(BIN)/python bench/relay_throughput.py

clean:
	rm -rf $(VENV) .venv-bintray var
