# Two commands do all the set-up on a fresh machine with only python3 and make:
#   make run   the app with demo data on SQLite and a server-less broker, jobs running
#   make test  the whole suite (browser tests too, where Chromium is installed)
SHELL := /bin/bash
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's language: en, or pt-br for the Brazilian one (make run DEMO_LANGUAGE=pt-br).
DEMO_LANGUAGE ?= en

.PHONY: messages run test test-fast test-browser test-faults install migrate demo worker lint bench clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.*"

.venv/.installed: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=.venv $(UV) sync --frozen --quiet
	touch $@

# The Portuguese catalogues, compiled in pure Python (no gettext needed to run or test).
install: .venv/.installed
	@$(PY) manage.py messages_compile

# Extracts every marked string into locale/pt_BR (needs GNU gettext: apt-get install gettext),
# keeping the translations already there; translate the new entries, then `make install`.
MESSAGES_IGNORE := --ignore=.venv --ignore=.tools --ignore=var --ignore=node_modules --ignore=static/vendor --ignore="var/*"
messages: .venv/.installed
	$(PY) manage.py makemessages -l pt_BR --no-obsolete $(MESSAGES_IGNORE)
	$(PY) manage.py makemessages -d djangojs -l pt_BR --no-obsolete $(MESSAGES_IGNORE)
	$(PY) manage.py messages_compile

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py load_demo --language $(DEMO_LANGUAGE)

# The web server in front, one Celery worker with the one beat scheduler embedded (-B) behind;
# Ctrl-C stops both.
run: demo
	@trap 'kill 0' EXIT INT TERM; \
	.venv/bin/celery -A slaportal worker -B --loglevel=INFO --concurrency=2 \
		--schedule var/celerybeat-schedule > var/celery.log 2>&1 & \
	echo "Celery worker and beat: logging to var/celery.log"; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# One pytest process per core; each file stays on one process (its fixtures are shared).
XDIST := -n auto --dist loadfile

test: install
	$(PY) -m pytest $(XDIST)

test-fast: install
	$(PY) -m pytest $(XDIST) -m "not browser"

test-browser: install
	$(PY) -m pytest -m browser

# The fault suite: kill -9 real Celery workers mid-job, restart a private redis-server, race
# sign-offs; prints a table of what was lost or doubled. Needs DATABASE_URL to PostgreSQL and
# redis-server on PATH (it starts its own on a spare port 6390-6399 and makes its own database).
test-faults: install
	RUN_FAULTS=1 timeout 900 $(PY) -m pytest tests/faults -m faults -rs

# The bench of issue 9 (PostgreSQL): seeds (or reuses) a workspace with seed_scale, times each
# hot path against its SQL floor and target, writes var/bench-$(BENCH_SCALE).json and .md.
# BENCH_SCALE=small (20 k leads, 200 k events) or 1m (1 M leads, 10 M events). See
# docs/benchmarks.md.
BENCH_SCALE ?= small
BENCH_RUNS ?= 3
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/slaportal_bench

bench: install
	mkdir -p var
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} EMAIL_URL=dummymail:// \
		$(PY) manage.py bench --scale $(BENCH_SCALE) --runs $(BENCH_RUNS)

lint: install
	.venv/bin/ruff check .

clean:
	rm -rf .venv $(TOOLS) var
