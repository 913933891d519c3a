# Lifecycle: `make run` starts Kafka, the database and the four services and plays the demo;
# `make test` runs the whole suite, provisioning Kafka, PostgreSQL and FerretDB locally when nothing is configured.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: help venv infra-install infra-up infra-down up down run demo test test-unit lint schemas bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11+" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## Create the virtualenv with the project and its dev tools

infra-install: venv ## Fetch Kafka's jars, create the PostgreSQL cluster, build FerretDB (once; cached under .local/)
	bash infra/kafka.sh install
	bash infra/postgres.sh install
	bash infra/ferretdb.sh build

infra-up: venv infra-install ## Start Kafka, PostgreSQL and FerretDB and wait until they answer
	bash infra/kafka.sh start
	bash infra/postgres.sh start
	bash infra/ferretdb.sh start
	bash infra/kafka.sh wait 120
	bash infra/ferretdb.sh wait 60
	$(PY) infra/ready.py 120

infra-down: ## Stop FerretDB, PostgreSQL and Kafka
	-bash infra/ferretdb.sh stop
	-bash infra/postgres.sh stop
	-bash infra/kafka.sh stop

up: infra-up ## Start everything in the background
	bash infra/services.sh start

down: ## Stop the services and the infrastructure
	-bash infra/services.sh stop
	$(MAKE) --no-print-directory infra-down

demo: venv ## Play the demo journey again on a running stack (make up); each run gets fresh ids
	@source infra/env.sh && $(PY) -m tools.demo

run: venv infra-install ## Start everything, play the demo, and keep running until Ctrl-C (stops everything)
	@MAKE="$(MAKE)" bash infra/run.sh

test: venv ## Run the whole test suite (unit, integration, end-to-end), provisioning what is missing
	@if [ -z "$$LIFECYCLE_TEST_KAFKA" ] && ! $(PY) -c 'import docker; docker.from_env().ping()' 2>/dev/null; then \
		$(MAKE) --no-print-directory infra-install; fi
	bash infra/chromium.sh install
	$(PY) -m pytest

test-unit: venv ## Run the fast unit tests only
	$(PY) -m pytest tests/unit

lint: venv ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

schemas: venv ## Regenerate schemas/ from the event models
	$(PY) -m shared.contract.schemas

bench: infra-up ## Benchmarks at fleet size beside raw baselines, into bench-results/ (smoke run: python -m bench.inventory --quick)
	$(PY) -m bench.inventory

clean: down ## Stop everything and delete local data (keeps downloaded jars and the FerretDB binary)
	-bash infra/kafka.sh clean
	-bash infra/ferretdb.sh clean
	-bash infra/postgres.sh clean
	rm -rf .local/services
