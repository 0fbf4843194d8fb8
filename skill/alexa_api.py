"""A small client for Alexa's REST APIs: the Device Settings API (skill/zones.py) and the
Reminders API (skill/handlers/reminders.py).

An Alexa request carries an API endpoint and a short-lived token for it. The token is sent
only to Alexa's own hosts (with verification off, anyone could name another endpoint), never
after a redirect, and each call is bounded in time, name lookup included: it runs on its own
thread because a socket timeout does not bound the lookup before it. A failure comes back as
an ``ApiFailure`` whose ``kind`` says what the couple should hear.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

log = logging.getLogger("closer.alexa_api")

# Where Alexa's APIs live (North America, Europe, Far East).
AMAZON_API_ENDPOINTS = frozenset({
    "https://api.amazonalexa.com", "https://api.eu.amazonalexa.com",
    "https://api.fe.amazonalexa.com",
})
TIMEOUT_S = 2.5  # Alexa waits 8 s for the whole answer; a reminder may take two calls
MOST_ANSWER_BYTES = 64 * 1024


class Failure(StrEnum):
    """Why a call did not work, as the couple should hear it."""

    NO_ACCESS = "no_access"  # no endpoint or token in the request, or not Alexa's endpoint
    UNAUTHORIZED = "unauthorized"  # 401: the token was refused (expired, say)
    FORBIDDEN = "forbidden"  # 403: no permission (the couple has not granted it)
    NOT_FOUND = "not_found"  # 404: nothing there (a reminder deleted in the Alexa app)
    THROTTLED = "throttled"  # 429: too many calls just now
    UNAVAILABLE = "unavailable"  # 5xx, a timeout, no connection, a broken answer
    REFUSED = "refused"  # any other answer: the request itself was not accepted


class ApiFailure(Exception):
    def __init__(self, kind: Failure, status: int | None = None) -> None:
        super().__init__(f"{kind.value}" + (f" (HTTP {status})" if status else ""))
        self.kind, self.status = kind, status


@dataclass(frozen=True)
class Access:
    """What a request carries to call Alexa's APIs for its device."""

    endpoint: str
    token: str
    device_id: str | None = None

    @classmethod
    def of(cls, system: Any) -> Access | None:
        """From a request's ``context.System``; None without an endpoint and token (the
        local speaker sends neither)."""
        endpoint = (getattr(system, "api_endpoint", None) or "").rstrip("/")
        token = getattr(system, "api_access_token", None)
        device = getattr(getattr(system, "device", None), "device_id", None)
        return cls(endpoint, token, device) if endpoint and token else None


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        raise urllib.error.HTTPError(newurl, code, "redirect refused", headers, fp)


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects())


def failure_for(status: int) -> Failure:
    if status == 401:
        return Failure.UNAUTHORIZED
    if status == 403:
        return Failure.FORBIDDEN
    if status == 404:
        return Failure.NOT_FOUND
    if status == 429:
        return Failure.THROTTLED
    if status >= 500:
        return Failure.UNAVAILABLE
    return Failure.REFUSED


class AlexaApi:
    """Calls to Alexa's APIs at ``endpoints`` only, each bounded by ``timeout_s``."""

    def __init__(self, endpoints: frozenset[str] = AMAZON_API_ENDPOINTS,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.endpoints = endpoints
        self.timeout_s = timeout_s

    def allows(self, access: Access | None) -> bool:
        return access is not None and access.endpoint in self.endpoints

    def call(self, access: Access | None, method: str, path: str, body: object = None,
             *, timeout_s: float | None = None) -> Any:
        """The parsed JSON answer (None for an empty one); raises ApiFailure."""
        if access is None or not self.allows(access):
            if access is not None:
                log.warning("alexa api not asked", extra={"reason": "not an Alexa endpoint"})
            raise ApiFailure(Failure.NO_ACCESS)
        limit = self.timeout_s if timeout_s is None else timeout_s
        outcome: list[Any] = [ApiFailure(Failure.UNAVAILABLE)]

        def run() -> None:
            try:
                outcome[0] = _send(access, method, path, body, limit)
            except ApiFailure as failure:
                outcome[0] = failure

        worker = threading.Thread(target=run, name="closer-alexa-api", daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            log.warning("alexa api failed", extra={"error": "timeout", "method": method})
            raise ApiFailure(Failure.UNAVAILABLE)
        if isinstance(outcome[0], ApiFailure):
            raise outcome[0]
        return outcome[0]

    # -- the Reminders API ---------------------------------------------------------------

    def create_reminder(self, access: Access | None, reminder: dict) -> str:
        """POST /v1/alerts/reminders; the new reminder's alert token."""
        answer = self.call(access, "POST", "/v1/alerts/reminders", reminder)
        token = answer.get("alertToken") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            log.warning("alexa api failed", extra={"error": "no alert token", "method": "POST"})
            raise ApiFailure(Failure.UNAVAILABLE)
        return token

    def delete_reminder(self, access: Access | None, alert_token: str) -> None:
        """DELETE /v1/alerts/reminders/{token}; a reminder already gone counts as deleted."""
        try:
            self.call(access, "DELETE", f"/v1/alerts/reminders/{quote(alert_token, safe='')}")
        except ApiFailure as failure:
            if failure.kind is not Failure.NOT_FOUND:
                raise


def _send(access: Access, method: str, path: str, body: object, timeout_s: float) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {access.token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{access.endpoint}{path}", data=data, headers=headers,
                                     method=method)
    try:  # never after a redirect: the token is for Alexa's own host only
        with _NO_REDIRECTS.open(request, timeout=timeout_s) as response:
            raw = response.read(MOST_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        kind = Failure.REFUSED if 300 <= error.code < 400 else failure_for(error.code)
        log.warning("alexa api failed", extra={"error": f"HTTP {error.code}", "method": method})
        raise ApiFailure(kind, error.code) from None
    except (OSError, http.client.HTTPException) as error:
        log.warning("alexa api failed", extra={"error": type(error).__name__, "method": method})
        raise ApiFailure(Failure.UNAVAILABLE) from None
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        log.warning("alexa api failed", extra={"error": "not JSON", "method": method})
        raise ApiFailure(Failure.UNAVAILABLE) from None
