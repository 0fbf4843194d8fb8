"""The household's time zone, so the journal can say "today" or "on Monday" for the day the
couple lived, not the server's (an evening round in New York is already tomorrow in UTC).

An Alexa request carries an API endpoint and a short-lived token; Alexa's Device Settings
API answers the device's time zone, with no permission to ask for. A request without them
(the local speaker) is in this machine's zone, and nothing leaves the machine. An answer is
kept for a day per device. A lookup that fails, or takes longer than ``timeout_s``, falls
back to this machine's zone for a few minutes, so an answer is never held up for long.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

log = logging.getLogger("closer.zones")

# Where Alexa's APIs live (North America, Europe, Far East). An envelope naming any other
# endpoint gets no request from us: with verification off, anyone could name one.
AMAZON_API_ENDPOINTS = frozenset({
    "https://api.amazonalexa.com", "https://api.eu.amazonalexa.com",
    "https://api.fe.amazonalexa.com",
})
TIMEOUT_S = 1.0
KEEP_S = 24 * 3600.0
RETRY_S = 300.0
MOST_DEVICES = 10_000


def here() -> tzinfo:
    """This machine's time zone."""
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always sets one
    return zone


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        raise urllib.error.HTTPError(newurl, code, "redirect refused", headers, fp)


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects())


class TimeZones:
    """Time zones by device, looked up with Alexa's Device Settings API and kept a while."""

    def __init__(self, endpoints: frozenset[str] = AMAZON_API_ENDPOINTS,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.endpoints = endpoints
        self.timeout_s = timeout_s
        self._known: OrderedDict[str, tuple[float, tzinfo]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, system: Any) -> tzinfo:
        """The zone of the device behind a request's ``context.System``."""
        endpoint = (getattr(system, "api_endpoint", None) or "").rstrip("/")
        token = getattr(system, "api_access_token", None)
        device = getattr(getattr(system, "device", None), "device_id", None)
        if not (endpoint and token and device):
            return here()
        if endpoint not in self.endpoints:
            log.warning("time zone not asked", extra={"reason": "not an Alexa API endpoint"})
            return here()
        with self._lock:
            known = self._known.get(device)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        asked = self._lookup(endpoint, device, token)
        zone = asked if asked is not None else here()
        self._keep(device, zone, KEEP_S if asked is not None else RETRY_S)
        return zone

    def forget(self, system: Any) -> None:
        """Drop what is kept about the device behind a request (the household is forgotten)."""
        device = getattr(getattr(system, "device", None), "device_id", None)
        with self._lock:
            self._known.pop(device, None)

    def _keep(self, device: str, zone: tzinfo, seconds: float) -> None:
        with self._lock:
            self._known[device] = (time.monotonic() + seconds, zone)
            self._known.move_to_end(device)
            while len(self._known) > MOST_DEVICES:
                self._known.popitem(last=False)

    def _lookup(self, endpoint: str, device: str, token: str) -> tzinfo | None:
        """Alexa's answer, or None when it fails or is late. The request runs on its own
        thread because a socket timeout does not bound the name lookup before it."""
        answer: list[tzinfo | None] = [None]

        def ask() -> None:
            answer[0] = self._fetch(endpoint, device, token)

        worker = threading.Thread(target=ask, name="closer-time-zone", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if worker.is_alive():
            log.warning("time zone lookup failed", extra={"error": "timeout"})
            return None
        return answer[0]

    def _fetch(self, endpoint: str, device: str, token: str) -> tzinfo | None:
        url = f"{endpoint}/v2/devices/{quote(device, safe='')}/settings/System.timeZone"
        request = urllib.request.Request(url, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json"})
        try:  # never after a redirect: the token is for Alexa's own host only
            with _NO_REDIRECTS.open(request, timeout=self.timeout_s) as response:
                name = json.loads(response.read(256))  # a JSON string: "America/New_York"
            return ZoneInfo(name)
        # KeyError: no such zone; HTTPException: a malformed answer
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:
            log.warning("time zone lookup failed", extra={"error": type(exc).__name__})
            return None
