# 智能咨询 — the graduation-procedures assistant. See README.md.
SHELL := /bin/bash
PY311 ?= $(shell ls -d /root/.pyenv/versions/3.11.*/bin/python3.11 2>/dev/null | head -1 || command -v python3.11)
PY310 ?= $(shell ls -d /root/.pyenv/versions/3.10.*/bin/python3.10 2>/dev/null | head -1 || command -v python3.10)
VENV := .venv
RVENV := .venv-rasa
export PYTHONPATH := $(CURDIR)
# Rasa must not try to reach the internet (telemetry) on machines without it.
export RASA_TELEMETRY_ENABLED := false

.PHONY: setup run run-cluster test test-dates test-backend lint format bench bench-cluster bench-nlg train validate chat clean

# --- environments (rebuilt when their requirements change) -----------------
$(VENV)/.stamp: requirements/app.txt
	@test -n "$(PY311)" && test -x "$(PY311)" || { echo "!! Python 3.11 not found: install it (e.g. 'pyenv install 3.11' or 'apt-get install python3.11 python3.11-venv'), or run make PY311=/path/to/python3.11" >&2; exit 1; }
	@echo ">> creating $(VENV) (backend, action server, tests) with $(PY311)"
	@test -x "$(VENV)/bin/python" || $(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements/app.txt
	@touch $@

$(RVENV)/.stamp: requirements/rasa.txt
	@test -n "$(PY310)" && test -x "$(PY310)" || { echo "!! Python 3.10 not found: Rasa 3.6 needs exactly 3.10. Install it (e.g. 'pyenv install 3.10', or Debian/Ubuntu: deadsnakes or python3.10-venv), or run make PY310=/path/to/python3.10" >&2; exit 1; }
	@echo ">> creating $(RVENV) (Rasa 3.6 server) with $(PY310)"
	@test -x "$(RVENV)/bin/python" || $(PY310) -m venv $(RVENV)
	$(RVENV)/bin/pip install -q --upgrade pip
	$(RVENV)/bin/pip install -q -r requirements/rasa.txt
	@touch $@

setup: $(VENV)/.stamp $(RVENV)/.stamp

# --- the assistant model -----------------------------------------------------
train: setup
	$(VENV)/bin/python scripts/train.py

validate: setup
	cd bot && ../$(RVENV)/bin/rasa data validate --domain domain --data ../data --config config.yml --fail-on-warnings

# --- the whole system ---------------------------------------------------------
run: setup
	$(VENV)/bin/python scripts/run_all.py

# N Rasa servers and M action servers behind nginx, Redis, PostgreSQL (Debian packages; scripts/cluster.py)
run-cluster: setup
	$(VENV)/bin/python scripts/cluster.py

chat: setup
	STUDENT=$(STUDENT) $(VENV)/bin/python scripts/chat.py

# --- tests and benchmarks ----------------------------------------------------
test: setup train
	$(VENV)/bin/python -m pytest

# The tests that touch dates, with every process's wall clock moved SHIFT_DAYS away (tests/timeshift/sitecustomize.py,
# time-machine): a test that passes only on the day it was written fails here (issue 24). CI runs one year ahead.
SHIFT_DAYS ?= 365
DATE_TESTS ?= tests/backend tests/handoff tests/channels tests/staff tests/actions \
  tests/notices/test_notices.py tests/notices/test_notices_seed.py tests/notices/test_deadlines_api.py
test-dates: setup train
	PYTHONPATH=$(CURDIR)/tests/timeshift:$(CURDIR) TEST_SHIFT_DAYS=$(SHIFT_DAYS) $(VENV)/bin/python -m pytest $(DATE_TESTS)

# ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade; the formatter's layout) and mypy on the application
# code; the settings are in pyproject.toml. `make format` applies what ruff can fix by itself.
lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.stamp
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-backend: $(VENV)/.stamp
	$(VENV)/bin/python -m pytest tests/backend

# make bench CLUSTER=1 adds the cluster step (1 and 2 Rasa servers; about 5 minutes; bench/cluster.py)
bench: setup train
	$(VENV)/bin/python -m bench.run
	$(VENV)/bin/python -m bench.metrics_cost
	$(if $(CLUSTER),$(VENV)/bin/python -m bench.cluster)

bench-cluster: setup train
	$(VENV)/bin/python -m bench.cluster

# the NLG endpoint / turn log cost step alone: its row of docs/benchmarks.md (about 3 minutes)
bench-nlg: setup train
	$(VENV)/bin/python -m bench.run --only nlg

clean:
	rm -rf var models results .pytest_cache
