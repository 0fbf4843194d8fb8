"""What an answer's SSML says, in order: text to speak, exact pauses, and the chime.

``<break>`` becomes a pause (chained breaks add up: a 20-second hug is one 20 s pause);
``<audio>`` (the skill's Alexa soundbank bell) becomes the chime; ``<prosody rate>`` sets
the speaking speed of its text; every other tag (emphasis, say-as, p, s, sub, amazon:*)
speaks its text, so nothing a voice cannot do is lost.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

# Breaks given by strength instead of time (Alexa: weak and medium are a comma's pause,
# strong a sentence's, x-strong a paragraph's).
_STRENGTH_S = {"none": 0.0, "x-weak": 0.0, "weak": 0.35, "medium": 0.35, "strong": 0.75,
               "x-strong": 1.0}
# <prosody rate>: Alexa's named rates, or a percentage of the normal speed (20% and up).
_RATES = {"x-slow": 0.7, "slow": 0.85, "medium": 1.0, "fast": 1.15, "x-fast": 1.3}
_SPEED_LIMITS = (0.5, 2.0)
_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_PREFIXED_TAG = re.compile(r"<(/?)([A-Za-z_][\w.-]*):")
_TAG = re.compile(r"<[^>]*>")
_SPOKEN = re.compile(r"\w")


@dataclass(frozen=True)
class Speech:
    text: str
    speed: float = 1.0  # from <prosody rate>: 0.85 is slower, 1.15 faster


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Chime:
    src: str


Part = Speech | Pause | Chime


class BadSsml(ValueError):
    """SSML that is not well-formed XML."""


def parse_ssml(ssml: str) -> list[Part]:
    """The parts of an answer. SSML that is not well-formed (e.g. an HTML entity from a
    webhook) still speaks its words, without the markup."""
    try:
        return parse_strict(ssml)
    except BadSsml:
        source = _wrapped(ssml)
        return _merge([Speech(html.unescape(_TAG.sub(" ", source)))])


def parse_strict(ssml: str) -> list[Part]:
    """The parts of an answer; BadSsml when it is not well-formed."""
    try:
        root = ET.fromstring(_PREFIXED_TAG.sub(r"<\1\2-", _wrapped(ssml)))
    except ET.ParseError as error:
        raise BadSsml(f"the SSML is not well-formed ({error})") from error
    parts: list[Part] = []
    _walk(root, parts, 1.0)
    return _merge(parts)


def readable(ssml: str) -> str:
    """The response as text for a screen: pauses as "[20 s pause]", the end cue as "[chime]"."""
    shown = []
    for part in parse_ssml(ssml):
        if isinstance(part, Speech):
            shown.append(part.text)
        elif isinstance(part, Pause):
            shown.append(f"[{part.seconds:g} s pause]")
        else:
            shown.append("[chime]")
    return " ".join(shown)


def _wrapped(ssml: str) -> str:
    source = ssml.strip()
    return source if source.startswith("<speak") else f"<speak>{source}</speak>"


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _walk(node: ET.Element, parts: list[Part], speed: float) -> None:
    tag = _local_name(node.tag)
    if tag == "break":
        parts.append(Pause(_break_seconds(node)))
    elif tag == "audio":  # its content is fallback text for when the sound cannot play
        parts.append(Chime(node.get("src", "")))
    elif tag == "sub":
        parts.append(Speech(node.get("alias") or "".join(node.itertext()), speed))
    elif tag == "say-as":
        parts.append(Speech(_say_as(node.get("interpret-as", ""), "".join(node.itertext())),
                            speed))
    else:
        inner = _prosody_speed(node, speed) if tag == "prosody" else speed
        if node.text:
            parts.append(Speech(node.text, inner))
        for child in node:
            _walk(child, parts, inner)
        if tag in {"p", "s"}:
            _end_sentence(parts)
    if node.tail:
        parts.append(Speech(node.tail, speed))


def _break_seconds(node: ET.Element) -> float:
    match = _TIME.match(node.get("time", ""))
    if match:
        amount = float(match.group(1))
        return amount / 1000 if match.group(2).lower() == "ms" else amount
    return _STRENGTH_S.get(node.get("strength", "medium").lower(), _STRENGTH_S["medium"])


def _prosody_speed(node: ET.Element, outer: float) -> float:
    rate = node.get("rate", "").strip().lower()
    if rate in _RATES:
        speed = _RATES[rate]
    elif match := _PERCENT.match(rate):
        speed = float(match.group(1)) / 100
    else:  # no rate (pitch or volume only), or one we cannot read: speak as around it
        return outer
    low, high = _SPEED_LIMITS
    return round(min(high, max(low, outer * speed)), 3)


def _say_as(kind: str, text: str) -> str:
    if kind.lower() in {"spell-out", "characters"}:
        return " ".join(ch for ch in text if not ch.isspace())
    if kind.lower() in {"digits", "telephone"}:
        return " ".join(ch for ch in text if ch.isalnum())
    return text


def _end_sentence(parts: list[Part]) -> None:
    last = parts[-1] if parts else None
    if isinstance(last, Speech) and not last.text.rstrip().endswith((".", "!", "?")):
        parts[-1] = Speech(last.text.rstrip() + ".", last.speed)


def _merge(parts: list[Part]) -> list[Part]:
    """Join neighbouring text of one speed and neighbouring pauses; drop text with nothing
    to say."""
    merged: list[Part] = []
    for part in parts:
        last = merged[-1] if merged else None
        if isinstance(part, Speech) and isinstance(last, Speech) and part.speed == last.speed:
            merged[-1] = Speech(f"{last.text} {part.text}", part.speed)
        elif isinstance(part, Pause) and isinstance(last, Pause):
            merged[-1] = Pause(last.seconds + part.seconds)
        else:
            merged.append(part)
    out: list[Part] = []
    for part in merged:
        if isinstance(part, Speech):
            text = " ".join(part.text.split())
            if _SPOKEN.search(text):
                out.append(Speech(text, part.speed))
        elif not isinstance(part, Pause) or part.seconds > 0:
            out.append(part)
    return out
