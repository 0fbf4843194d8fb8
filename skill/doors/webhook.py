"""The Alexa-compatible HTTPS webhook: POST /alexa, GET /healthz, GET /metrics (metrics.py).

Order of checks for POST /alexa: body size (413); without verification (loopback only), a
request that came through a proxy is refused (403); Amazon's signature and certificate
chain, timestamp, application id (400 on any failure); then the skill. Every error on
every route is a JSON object ``{"error": reason}``; client errors are never 500s, and no
log line carries what was said.
"""

from __future__ import annotations

import json
import logging

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.skill import CustomSkill
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from skill.app import answer, configured_skill
from skill.config import MAX_BODY_BYTES, Config
from skill.doors import metrics
from skill.doors.verify import RequestVerifier
from skill.envelopes import Rejection, VerificationError, check_application_id

log = logging.getLogger("closer.webhook")
# The answer as compact JSON, keys in the skill's order (Flask's jsonify sorts them).
_compact_json = json.JSONEncoder(separators=(",", ":")).encode
# Headers a reverse proxy adds. Unverified requests must come straight from this machine.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
                 "X-Real-IP")


def create_app(
    config: Config | None = None,
    skill: CustomSkill | None = None,
    verifier: RequestVerifier | None = None,
) -> Flask:
    """The Flask app. ``verifier=None`` with ``config.verify`` builds Amazon's verifier."""
    config = config or Config.from_env()
    if skill is None:
        skill = configured_skill(config)
    if not config.verify:
        verifier = None
    elif verifier is None:
        verifier = RequestVerifier()
    app = Flask("closer")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    metrics.instrument(app, config.metrics_token)

    @app.get("/healthz")
    def healthz() -> Response:
        return _json({"status": "ok"})

    @app.post("/alexa")
    def alexa() -> Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _reject(VerificationError("body too large", Rejection.TOO_LARGE))
        body = request.get_data(cache=False)
        try:
            if len(body) > MAX_BODY_BYTES:
                raise VerificationError("body too large", Rejection.TOO_LARGE)
            if verifier is None:
                _refuse_proxied()
                envelope = parse_body(body)
            else:
                envelope = verifier.verify(request.headers, body)
            check_application_id(envelope, config.skill_ids)
            if not looks_like_alexa(envelope):
                raise VerificationError("not an alexa request", Rejection.MALFORMED)
        except VerificationError as error:
            return _reject(error)
        metrics.note_envelope(envelope)
        try:
            answered, failed = answer(skill, envelope)
        # RecursionError: absurdly nested JSON (session attributes are deep-copied).
        except (SerializationException, ValueError, TypeError, KeyError, AttributeError,
                RecursionError) as error:
            log.warning("rejected", extra={"reason": "undeserializable request",
                                           "error": type(error).__name__})
            return _reject(VerificationError("undeserializable request", Rejection.MALFORMED),
                           logged=True)
        if failed:
            metrics.note_handler_failure()
        return Response(_compact_json(answered), mimetype="application/json")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        """Flask's own errors (404, 405, 413 from the body limit...) as JSON too."""
        if error.code == 413:
            return _reject(VerificationError("body too large", Rejection.TOO_LARGE))
        reason = (error.name or "error").lower()
        response = _json({"error": reason}, error.code or 500)
        if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.error("webhook failed", extra={"error": type(error).__name__})
        return _json({"error": "internal server error"}, 500)

    return app


def _refuse_proxied() -> None:
    """Without signature checks, only a client on this machine may call: never one whose
    request came through the reverse proxy (which would let anyone reach it)."""
    if any(request.headers.get(name) for name in PROXY_HEADERS):
        raise VerificationError("unverified request through a proxy", Rejection.PROXIED)


def parse_body(body: bytes) -> dict:
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise VerificationError("malformed json", Rejection.MALFORMED) from error
    if not isinstance(envelope, dict):
        raise VerificationError("json body is not an object", Rejection.MALFORMED)
    return envelope


# Standard requests always come with a session (skill events and the like do not).
_IN_SESSION = frozenset({"LaunchRequest", "IntentRequest", "SessionEndedRequest"})


def looks_like_alexa(envelope: dict) -> bool:
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


def _json(body: dict, status: int = 200) -> Response:
    return Response(_compact_json(body), status=status, mimetype="application/json")


def _reject(error: VerificationError, logged: bool = False) -> Response:
    status = error.kind.status
    if not logged:
        log.warning("rejected", extra={"status": status, "reason": error.reason})
    metrics.note_rejection(error)
    return _json({"error": error.reason}, status)
