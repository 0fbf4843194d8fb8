# Closer Together: `make run` serves the skill, `make test` runs the whole suite.
# Both set everything up first, on a fresh machine too.

PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8080

.PHONY: run test test-quick bench bench-speech loadtest fixtures lint system setup clean

# Without CLOSER_SKILL_IDS there is no Alexa skill to verify requests for: serve on loopback
# without Amazon's signature check, ready for curl and `closer chat --endpoint`. With it set,
# the webhook verifies every request, as it must behind a public proxy.
run: setup
	$(BIN)/closer serve --host $(HOST) --port $(PORT) $(if $(CLOSER_SKILL_IDS),,--no-verify)

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q

test-quick: setup
	$(BIN)/pytest -q -m "not vosk and not slow"

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

setup: system $(STAMP)

# Debian packages: espeak-ng (pyttsx3's voice), sox (audio checks), PortAudio
# (microphone), PostgreSQL (its tests start a real server), wrk (make bench's load), Caddy
# and nginx (the tests run the shipped proxy configurations), and the voices of the
# recorded fixtures (a test regenerates them).
system:
	@bash deploy/install-system-packages.sh
	@bash deploy/install-fixture-packages.sh

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
