# The two commands that matter: `make synth` (main job, offline) and `make test` (whole suite).
# Every target bootstraps what it needs on a fresh machine (scripts/bootstrap.sh): synth and lint only
# Python and Node (no root, no apt); test, lab and bench also the system packages of scripts/apt-packages.txt.
SHELL := /bin/bash
.DEFAULT_GOAL := synth
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= default
# Extra pytest arguments for `make test`, e.g. PYTEST_ARGS='tests/probe -x'.
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` (TEST_WORKERS=0: one process). Which tests share a worker is decided
# in tests/conftest.py (groups of shared state, longest group first: hence no loadscope reorder). 2 on this
# 2-core machine: 3 took 7 min 18 s but flaked, with the two timing lanes side by side (a lab agreement)
# and with both on the first worker (a browser row, a stepped-back worker's stream verdicts).
TEST_WORKERS ?= 2
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: bootstrap bootstrap-all synth test lint lab bench lock dist clean audit

# .venv, the CDK CLI and the canary's wheels: all that synth needs.
bootstrap:
	@scripts/bootstrap.sh synth

# bootstrap, plus nginx, haproxy, curl and Chromium (apt-get where there is one, else a hint what to install).
bootstrap-all:
	@scripts/bootstrap.sh all

synth: bootstrap
	@scripts/synth.sh $(CONFIG)

# Bytecode written (an environment may say PYTHONDONTWRITEBYTECODE): each worker and each Python the tests
# start would otherwise compile the suite and the project afresh (collection: 11 s of CPU, 6 s with it).
test: bootstrap-all
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

lab: bootstrap-all
	$(PY) -m lab

bench: bootstrap-all
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Re-pin constraints.txt to what .venv holds after resolving the pyproject.toml files.
lock:
	@scripts/bootstrap.sh lock

# An sdist and a wheel of each distribution (probe/, service/, lambda/canary/, cdk/) into dist/, each
# passing `twine check --strict` (scripts/dist.sh).
dist: bootstrap
	@scripts/dist.sh dist

# The Serverless and NIST 800-53 R5 cdk-nag packs over one config; each finding fixed or reasoned in the README.
audit: bootstrap
	$(PY) -m stacks.audit $(CONFIG)

clean:
	rm -rf dist cdk.out build/cdk.out.synth-* .pytest_cache .mypy_cache .ruff_cache
