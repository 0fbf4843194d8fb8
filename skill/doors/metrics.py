"""Prometheus metrics for the webhook: ``GET /metrics`` plus accounting of every
``POST /alexa``.

- ``closer_requests_total{request_type, outcome}``: outcome is ``ok``, ``error`` (a 5xx, or
  the skill answered with its "please try again" because a handler failed) or
  ``rejected_<kind>`` (too_large, malformed, signature, timestamp, application_id, proxied).
- ``closer_request_duration_seconds{request_type}``: latency histogram.
- ``closer_verification_failures_total{reason}``: why Amazon's checks failed (the fixed
  reasons of skill/doors/verify.py, never request content).

Labels come from fixed sets, so a caller cannot grow them; a rejected request's type is
``unknown`` because its content is not trusted. Every family is there from the first
scrape: the common series start at zero when the app is built. Under gunicorn every worker
writes to ``PROMETHEUS_MULTIPROC_DIR`` (prepared by skill/doors/server.py before workers
start) and a scrape adds up all workers, whichever worker answers it.

Access: with a metrics token, a scrape needs ``Authorization: Bearer <token>``; without
one, only a direct loopback client (no X-Forwarded-For/Forwarded, i.e. not through the
reverse proxy) may scrape.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import re
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

from skill.envelopes import Rejection, VerificationError, request_type_label

_SAFE_REASON = re.compile(r"^[a-z0-9 ]{1,40}$")
# What each request type's series start from, so a fresh instance has every family.
_COMMON_TYPES = ("LaunchRequest", "IntentRequest", "SessionEndedRequest")

REQUESTS = Counter("closer_requests", "Alexa requests by request type and outcome",
                   ["request_type", "outcome"])
LATENCY = Histogram("closer_request_duration_seconds", "Time to answer POST /alexa",
                    ["request_type"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 8.0))
VERIFICATION_FAILURES = Counter("closer_verification_failures",
                                "Requests that failed Amazon's request verification, by reason",
                                ["reason"])


def note_envelope(envelope: dict) -> None:
    """Called once the request is verified: its type becomes the metrics label."""
    g.closer_request_type = request_type_label(envelope)


def note_rejection(error: VerificationError) -> None:
    """Called for every refused request."""
    g.closer_rejection = error.kind
    if error.kind in (Rejection.SIGNATURE, Rejection.TIMESTAMP, Rejection.APPLICATION_ID):
        reason = error.reason if _SAFE_REASON.match(error.reason) else "other"
        VERIFICATION_FAILURES.labels(reason).inc()


def note_handler_failure() -> None:
    """The skill answered with its apology because a handler failed."""
    g.closer_failed = True


def _outcome(status: int) -> str:
    if status >= 500 or g.get("closer_failed", False):
        return "error"
    if status >= 400:
        kind = g.get("closer_rejection") or Rejection.MALFORMED
        return f"rejected_{kind.value}"
    return "ok"


@functools.cache  # label values come from fixed sets, so this stays small
def _series(request_type: str, outcome: str) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one label set, looked up once."""
    return REQUESTS.labels(request_type, outcome), LATENCY.labels(request_type)


def _start_series() -> None:
    shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if shared:  # gunicorn run by hand with a directory nobody made yet
        os.makedirs(shared, exist_ok=True)
    for kind in _COMMON_TYPES:
        _series(kind, "ok")
        _series(kind, "error")
    for rejection in Rejection:
        REQUESTS.labels("unknown", f"rejected_{rejection.value}")
    VERIFICATION_FAILURES.labels("bad signature")


def instrument(app: Flask, token: str | None = None, path: str = "/alexa") -> None:
    """Count and time every request to ``path``; serve ``GET /metrics``."""
    _start_series()

    @app.before_request
    def _start() -> None:
        if request.path == path:
            g.closer_started = time.perf_counter()

    @app.after_request
    def _account(response: Response) -> Response:
        started = g.get("closer_started")
        if started is not None:
            kind = g.get("closer_request_type", "unknown")
            count, latency = _series(kind, _outcome(response.status_code))
            count.inc()
            latency.observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        if not _may_scrape(token):
            return Response('{"error":"forbidden"}', status=403, mimetype="application/json")
        # content_type, not mimetype: Flask would add a second "charset=utf-8".
        return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


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
    # prometheus_client's own switch: set by skill/doors/server.py before it is imported.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
