# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test worker lint typecheck pytest bench clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# The CPU build first, so that no dependency pulls a CUDA build of torch.
	$(PIP) install -q torch==2.13.0

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-run
	$(PIP) install -q -e '.[dev]'
	touch $@

## Set up and run the whole product: embedded services, worker, web server.
run: $(VENV)/.installed-run
	$(PY) -m coding_app.launcher

# Two processes keep the suite under 15 minutes on a 2-core machine: much of
# it waits on browsers, workers and servers. Each has its own test database
# and Redis database (tests/xdist_services.py); PYTEST_WORKERS=0 runs one.
PYTEST_WORKERS ?= 2

## Set up and run every check: ruff, mypy, migrations, pytest.
test: $(VENV)/.installed-dev lint typecheck
	$(PY) -m coding_app.launcher.with_services $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy .

## A worker on all queues against DATABASE_URL / REDIS_URL (production-like).
worker: $(VENV)/.installed-run
	$(VENV)/bin/celery --app=coding_app worker --queues=default,inference,training --loglevel=INFO

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
