# Two commands do everything on a fresh clone:
#   make run   - virtualenv, install, migrate, seed areas + demo data, serve the API on SQLite (port 5000)
#   make test  - virtualenv, install test needs, run the suite (SQLite; PostgreSQL + Redis when
#                TEST_DATABASE_URL / TEST_REDIS_URL are set, as .ci/run does)
#   make lint  - ruff (pyproject.toml): lint and import order
#   make tour  - run the README's API tour against a fresh server on a temporary SQLite database
#   make bench - the performance table (PostgreSQL database `bench`, Redis db 6, gunicorn, wrk);
#                make bench-quick is the same in under two minutes. BENCH_ARGS passes options (--help).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi.py
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-pg lint tour bench bench-quick clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) seed demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-pg: $(VENV)/.installed-dev
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	TEST_REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/1} $(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

tour: $(VENV)/.installed
	$(PY) tests/tour.py README.md docs/tour.md

bench: $(VENV)/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

bench-quick: $(VENV)/.installed
	$(PY) bench/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
