"""The household's time zone, so the journal can say "today" or "on Monday" for the day the
couple lived, not the server's (an evening round in New York is already tomorrow in UTC), and
a nightly reminder rings at nine in their evening.

An Alexa request carries an API endpoint and a short-lived token; Alexa's Device Settings
API answers the device's time zone, with no permission to ask for (skill/alexa_api.py makes
the call: Alexa's hosts only, no redirects, bounded in time). A request without them (the
local speaker) is in this machine's zone, and nothing leaves the machine. An answer is kept
for a day per device. A lookup that fails, or takes longer than ``timeout_s``, falls back to
this machine's zone for a few minutes, so an answer is never held up for long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from skill.alexa_api import AMAZON_API_ENDPOINTS, Access, AlexaApi, ApiFailure

log = logging.getLogger("closer.zones")

TIMEOUT_S = 1.0
KEEP_S = 24 * 3600.0
RETRY_S = 300.0
MOST_DEVICES = 10_000


def here() -> tzinfo:
    """This machine's time zone."""
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always sets one
    return zone


def zone_name(zone: tzinfo) -> str | None:
    """The IANA name of a zone ("America/New_York"), or None for a bare offset."""
    return getattr(zone, "key", None)


class TimeZones:
    """Time zones by device, looked up with Alexa's Device Settings API and kept a while."""

    def __init__(self, endpoints: frozenset[str] = AMAZON_API_ENDPOINTS,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.endpoints = endpoints
        self.timeout_s = timeout_s
        self._api = AlexaApi(endpoints, timeout_s)
        self._known: OrderedDict[str, tuple[float, tzinfo]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, system: Any) -> tzinfo:
        """The zone of the device behind a request's ``context.System``."""
        access = Access.of(system)
        device = access.device_id if access else None
        if access is None or not device:
            return here()
        if not self._api.allows(access):
            log.warning("time zone not asked", extra={"reason": "not an Alexa API endpoint"})
            return here()
        with self._lock:
            known = self._known.get(device)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        asked = self._lookup(access, device)
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

    def _lookup(self, access: Access, device: str) -> tzinfo | None:
        """Alexa's answer, or None when it fails or is late."""
        path = f"/v2/devices/{quote(device, safe='')}/settings/System.timeZone"
        try:
            name = self._api.call(access, "GET", path)  # a JSON string: "America/New_York"
            return ZoneInfo(name)
        except ApiFailure as failure:
            log.warning("time zone lookup failed", extra={"error": failure.kind.value})
        # KeyError: no such zone; ValueError, TypeError: not a zone name at all
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("time zone lookup failed", extra={"error": type(exc).__name__})
        return None
