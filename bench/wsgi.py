"""WSGI factories for gunicorn: ``bench.wsgi:closer()`` and ``bench.wsgi:minimal()``.

``closer()`` is the product: our webhook (``create_app``) and skill, persistence on.
``closer_in_memory()`` measures the same without persistence, and the ``_unlogged``
variants without the per-request log line and metrics (see bench/run.py).
``minimal_with_store()`` is the baseline plus one durable write per request (our SQLite
store records the visit): what persisting anything costs a skill on this machine.
``minimal()`` is the baseline: a one-intent ask-sdk skill served the way ask-sdk serves
skills in Flask (flask-ask-sdk's SkillAdapter over ask-sdk-webservice-support's
WebserviceSkillHandler: the SDK's DefaultSerializer reads the body string, the skill is
invoked, the response serialized and sent with ``jsonify``). Those two packages cannot be
imported on current OpenSSL, so their steps are written out here, and the SDK's verifiers
are stood in for by ours: both apps verify every request the same way.

Environment: BENCH_CHAIN_PEM (leaf+intermediate PEM served for the s3.amazonaws.com URL),
BENCH_ROOT_PEM (the trusted test root), CLOSER_DB (SQLite file), CLOSER_SKILL_IDS,
CLOSER_DATA_KEY (the key for names and appreciations, and the session attributes' key).
Verification is on; only the certificate download is replaced by a file read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope
from flask import Flask, jsonify, request

from bench.memory_store import MemoryStore
from bench.minimal_skill import minimal_skill
from skill.app import build_skill, configured_skill, data_key
from skill.config import Config
from skill.doors.verify import RequestVerifier, check_application_id
from skill.doors.webhook import create_app
from skill.session import derive_key
from skill.store import open_store
from skill.store.sqlite import SQLiteStore
from tests.support.certs import file_verifier


def _verifier() -> RequestVerifier:
    return file_verifier(Path(os.environ["BENCH_CHAIN_PEM"]), Path(os.environ["BENCH_ROOT_PEM"]))


def closer() -> Flask:
    """The product as ``closer serve`` builds it: names and appreciations encrypted (a key
    file beside the database), old rows purged."""
    config = Config.from_env(verify=True)
    return create_app(config, skill=configured_skill(config), verifier=_verifier())


def closer_unencrypted() -> Flask:
    """A measuring aid: ``closer()`` storing names and appreciations in plain text."""
    config = Config.from_env(verify=True)
    store = open_store(db_path=config.db_path)
    return create_app(config, skill=_skill(store, config), verifier=_verifier())


def closer_in_memory() -> Flask:
    """A measuring aid, not the product: ``closer()`` with bench/memory_store.py's store."""
    config = Config.from_env(verify=True)
    return create_app(config, skill=_skill(MemoryStore(), config), verifier=_verifier())


def _skill(store: object, config: Config):
    """The skill over another store, its session attributes signed as ``closer()`` signs
    them (every worker shares the key, as every worker of the product does)."""
    return build_skill(store, session_key=derive_key(data_key(config)))


def closer_unlogged() -> Flask:
    """A measuring aid, not the product: ``closer()`` without its per-request log line and
    without the Prometheus accounting (the request hooks skill/metrics.py adds)."""
    return _unlogged(closer())


def closer_in_memory_unlogged() -> Flask:
    """A measuring aid: no persistence, no per-request log line, no metrics."""
    return _unlogged(closer_in_memory())


def _unlogged(app: Flask) -> Flask:
    logging.getLogger("closer").setLevel(logging.WARNING)  # this worker's request lines
    app.before_request_funcs.clear()
    app.after_request_funcs.clear()
    return app


def minimal() -> Flask:
    return _minimal_app()


def minimal_with_store() -> Flask:
    """A measuring aid: ``minimal()`` that also saves one row per request, durably, with the
    product's store (``record_visit``: one upsert) before it answers."""
    store = SQLiteStore(Config.from_env(verify=True).db_path)
    return _minimal_app(lambda envelope: store.record_visit(envelope.context.system.user.user_id))


def _minimal_app(persist: Callable[[RequestEnvelope], object] | None = None) -> Flask:
    config = Config.from_env(verify=True)
    skill, verifier, serializer = minimal_skill(), _verifier(), DefaultSerializer()
    app = Flask("minimal")

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/alexa")
    def alexa():
        body = request.get_data()
        envelope = serializer.deserialize(body.decode("utf-8"), RequestEnvelope)
        check_application_id(verifier.verify(request.headers, body), config.skill_ids)
        if persist is not None:
            persist(envelope)
        response = skill.invoke(request_envelope=envelope, context=None)
        return jsonify(serializer.serialize(response))

    return app
