"""AMAZON.DURATION values (ISO-8601 durations such as PT20S, PT1M30S) to seconds."""

from __future__ import annotations

import re

_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def iso_seconds(value: str | None) -> float | None:
    """Seconds in an ISO-8601 duration, or None when it is missing or unparseable."""
    if not value:
        return None
    match = _ISO.match(value.strip().upper())
    if not match or value.strip().upper() in {"P", "PT"}:
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    if not parts:
        return None
    return (
        parts.get("weeks", 0) * 604800
        + parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )


_MINUTES = ("", "a minute", "two minutes", "three minutes", "four minutes", "five minutes",
            "six minutes", "seven minutes", "eight minutes", "nine minutes", "ten minutes")


def spoken(seconds: int) -> str:
    """As a person says it: '20 seconds', 'a minute', 'a minute and a half', 'three minutes',
    '75 seconds'."""
    minutes, rest = divmod(seconds, 60)
    if rest == 0 and 0 < minutes < len(_MINUTES):
        return _MINUTES[minutes]
    if seconds == 90:
        return "a minute and a half"
    return f"{seconds} seconds"


def asked_seconds(value: str | None, default: int, low: int, high: int) -> int | str:
    """The whole seconds an AMAZON.DURATION slot asks for (``default`` when it is empty), or
    why it cannot be used: "unheard", "too short" or "too long" against ``low``..``high``."""
    if value is None:
        return default
    seconds = iso_seconds(value)
    if seconds is None:
        return "unheard"
    if seconds < low:
        return "too short"
    if seconds > high:
        return "too long"
    return round(seconds)
