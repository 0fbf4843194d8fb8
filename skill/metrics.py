"""Prometheus metrics for the webhook: ``GET /metrics`` plus accounting of every
``POST /alexa``.

- ``closer_requests_total{request_type, outcome}``: outcome is ``ok``, ``error`` (a 5xx, or
  the skill answered with its "please try again" because a handler failed) or
  ``rejected_<class>`` (too_large, malformed, signature, timestamp, application_id).
- ``closer_request_duration_seconds{request_type}``: latency histogram.
- ``closer_verification_failures_total{reason}``: why Amazon's checks failed (fixed strings
  from skill/webhook/verify.py, never request content).

Labels come from fixed sets, so a caller cannot grow them; a rejected request's type is
``unknown`` because its content is not trusted. Under gunicorn every worker writes to
``PROMETHEUS_MULTIPROC_DIR`` (prepared by skill/webhook/server.py before workers start) and
a scrape adds up all workers, whichever worker answers it.

Access: with ``CLOSER_METRICS_TOKEN`` set, a scrape needs ``Authorization: Bearer <token>``;
without it, only a direct loopback client (no X-Forwarded-For/Forwarded, i.e. not through
the reverse proxy) may scrape.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import re
import threading
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_TYPES = frozenset({
    "LaunchRequest", "IntentRequest", "SessionEndedRequest", "CanFulfillIntentRequest",
    "System.ExceptionEncountered", "AlexaSkillEvent.SkillEnabled",
    "AlexaSkillEvent.SkillDisabled", "AlexaSkillEvent.SkillPermissionAccepted",
    "AlexaSkillEvent.SkillPermissionChanged", "AlexaSkillEvent.SkillAccountLinked",
})
_REJECTION_CLASSES = {
    "body too large": "too_large",
    "malformed json": "malformed",
    "malformed envelope": "malformed",
    "not an alexa request": "malformed",
    "undeserializable request": "malformed",
    "missing application id": "application_id",
    "unknown application id": "application_id",
    "bad timestamp": "timestamp",
    "stale timestamp": "timestamp",
    "future timestamp": "timestamp",
}
# Not about who sent the request: these are not verification failures.
_NOT_VERIFICATION = {"body too large", "not an alexa request", "undeserializable request"}
_SAFE_REASON = re.compile(r"^[a-z0-9 ]{1,40}$")

REQUESTS = Counter("closer_requests", "Alexa requests by request type and outcome",
                   ["request_type", "outcome"])
LATENCY = Histogram("closer_request_duration_seconds", "Time to answer POST /alexa",
                    ["request_type"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 8.0))
VERIFICATION_FAILURES = Counter("closer_verification_failures",
                                "Requests that failed Amazon's request verification, by reason",
                                ["reason"])

_local = threading.local()


class _SkillErrorWatch(logging.Handler):
    """Marks the current request as an error when the skill logs one (its exception handler
    logs "handler failed" and still answers 200 with a spoken apology)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and getattr(_local, "active", False):
            _local.error = True


_watch = _SkillErrorWatch(level=logging.ERROR)  # the logger skips it for lesser records


def request_type_label(envelope: dict) -> str:
    kind = (envelope.get("request") or {}).get("type") if isinstance(envelope, dict) else None
    return kind if kind in REQUEST_TYPES else "other"


def note_envelope(envelope: dict) -> None:
    """Called once the request is verified: its type becomes the metrics label."""
    g.closer_request_type = request_type_label(envelope)


def note_rejection(reason: str) -> None:
    """Called for every rejected request with its short, fixed reason."""
    g.closer_reject_reason = reason
    if reason not in _NOT_VERIFICATION:
        VERIFICATION_FAILURES.labels(reason if _SAFE_REASON.match(reason) else "other").inc()


def _outcome(status: int) -> str:
    if status >= 500 or getattr(_local, "error", False):
        return "error"
    if status >= 400:
        reason = g.get("closer_reject_reason", "")
        return "rejected_" + _REJECTION_CLASSES.get(reason, "signature" if reason else "malformed")
    return "ok"


@functools.cache  # label values come from fixed sets, so this stays small
def _series(request_type: str, outcome: str) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one label set, looked up once."""
    return REQUESTS.labels(request_type, outcome), LATENCY.labels(request_type)


def instrument(app: Flask, path: str = "/alexa") -> None:
    """Count and time every request to ``path``; serve ``GET /metrics``."""
    token = os.environ.get("CLOSER_METRICS_TOKEN") or None
    skill_log = logging.getLogger("closer.skill")
    if _watch not in skill_log.handlers:
        skill_log.addHandler(_watch)

    @app.before_request
    def _start() -> None:
        if request.path == path:
            g.closer_started = time.perf_counter()
            _local.active, _local.error = True, False

    @app.after_request
    def _account(response: Response) -> Response:
        started = g.get("closer_started")
        if started is not None:
            kind = g.get("closer_request_type", "unknown")
            count, latency = _series(kind, _outcome(response.status_code))
            count.inc()
            latency.observe(time.perf_counter() - started)
            _local.active = False
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        if not _may_scrape(token):
            return Response("forbidden\n", status=403, mimetype="text/plain")
        return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _may_scrape(token: str | None) -> bool:
    if token:
        offered = request.headers.get("Authorization", "")
        return hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
