"""The Alexa-compatible HTTPS webhook: POST /alexa, GET /healthz, GET /metrics (skill/metrics.py).

Order of checks for POST /alexa: body size (413), Amazon's signature and certificate
chain, timestamp, application id (400 on any failure), then the skill. Client errors are
never 500s, and no log line carries what was said.
"""

from __future__ import annotations

import json
import logging

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.skill import CustomSkill
from flask import Flask, Response, jsonify, request

from skill import metrics
from skill.app import build_skill, invoke
from skill.config import MAX_BODY_BYTES, Config
from skill.store import open_store
from skill.webhook.verify import RequestVerifier, VerificationError, check_application_id

log = logging.getLogger("closer.webhook")
# The answer as compact JSON, keys in the skill's order (Flask's jsonify sorts them).
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


def create_app(
    config: Config | None = None,
    skill: CustomSkill | None = None,
    verifier: RequestVerifier | None = None,
) -> Flask:
    """The Flask app. ``verifier=None`` with ``config.verify`` builds Amazon's verifier."""
    config = config or Config.from_env()
    if skill is None:
        store = open_store(db_path=config.db_path, database_url=config.database_url)
        skill = build_skill(store)
    if not config.verify:
        verifier = None
    elif verifier is None:
        verifier = RequestVerifier()
    app = Flask("closer")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    metrics.instrument(app)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.post("/alexa")
    def alexa() -> tuple[Response, int] | Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _reject(413, "body too large")
        body = request.get_data(cache=False)
        if len(body) > MAX_BODY_BYTES:
            return _reject(413, "body too large")
        try:
            envelope = verifier.verify(request.headers, body) if verifier else _parse(body)
            check_application_id(envelope, config.skill_ids)
        except VerificationError as error:
            return _reject(400, error.reason)
        if not _looks_like_alexa(envelope):
            return _reject(400, "not an alexa request")
        metrics.note_envelope(envelope)
        try:
            answer = invoke(skill, envelope)
        # RecursionError: absurdly nested JSON (session attributes are deep-copied).
        except (SerializationException, ValueError, TypeError, KeyError, AttributeError,
                RecursionError) as error:
            log.warning("rejected", extra={"reason": "undeserializable request",
                                           "error": type(error).__name__})
            return jsonify(error="bad request"), 400
        return Response(_compact_json(answer), mimetype="application/json")

    @app.errorhandler(413)
    def too_large(_error: Exception) -> tuple[Response, int]:
        return _reject(413, "body too large")

    return app


def _parse(body: bytes) -> dict:
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise VerificationError("malformed json") from error
    if not isinstance(envelope, dict):
        raise VerificationError("malformed json")
    return envelope


# Standard requests always come with a session (skill events and the like do not).
_IN_SESSION = frozenset({"LaunchRequest", "IntentRequest", "SessionEndedRequest"})


def _looks_like_alexa(envelope: dict) -> bool:
    req = envelope.get("request")
    user: object = envelope
    for key in ("context", "System", "user", "userId"):  # any level may be any JSON type
        user = user.get(key) if isinstance(user, dict) else None
    if not (isinstance(req, dict) and isinstance(req.get("type"), str) and isinstance(user, str)):
        return False
    if req["type"] in _IN_SESSION and not isinstance(envelope.get("session"), dict):
        return False
    intent = req.get("intent")
    return req["type"] != "IntentRequest" or (
        isinstance(intent, dict) and isinstance(intent.get("name"), str))


def _reject(status: int, reason: str) -> tuple[Response, int]:
    log.warning("rejected", extra={"status": status, "reason": reason})
    metrics.note_rejection(reason)
    return jsonify(error=reason), status
