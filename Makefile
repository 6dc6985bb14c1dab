# The two commands that matter: `make synth` (main job, offline) and `make test` (whole suite).
# Every target bootstraps what it needs on a fresh machine (scripts/bootstrap.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := synth
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= default
# jsii silences its Node end-of-life banner only when this lists the running major version.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 20)
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: bootstrap synth test lint lab bench clean

bootstrap:
	@scripts/bootstrap.sh all

synth: bootstrap
	@rm -rf cdk.out
	@time node_modules/.bin/cdk synth --quiet --no-notices --no-version-reporting -c config=$(CONFIG)
	@echo "Templates written for config '$(CONFIG)':"
	@ls -1 cdk.out/*.template.json

test: bootstrap
	$(PY) -m pytest

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

lab: bootstrap
	$(PY) -m lab

bench: bootstrap
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
