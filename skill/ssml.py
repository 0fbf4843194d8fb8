"""Small SSML helpers: escaping text and long pauses within Alexa's limits."""

from __future__ import annotations

from xml.sax.saxutils import escape as _xml_escape

MAX_BREAK_S = 10  # Alexa allows at most 10 s per <break>; longer pauses are chained.
END_CHIME = "soundbank://soundlibrary/musical/amzn_sfx_bell_timer_01"


def text(words: str) -> str:
    """Escape free text (a card, a name, an appreciation) for use inside SSML."""
    return _xml_escape(words, {'"': "&quot;"})


def pause(seconds: float) -> str:
    """Exactly ``seconds`` of silence as chained <break>s, none longer than 10 s."""
    parts: list[str] = []
    remaining_ms = round(seconds * 1000)
    while remaining_ms > 0:
        chunk = min(remaining_ms, MAX_BREAK_S * 1000)
        amount = f"{chunk}ms" if chunk % 1000 else f"{chunk // 1000}s"
        parts.append(f'<break time="{amount}"/>')
        remaining_ms -= chunk
    return "".join(parts)


def chime() -> str:
    return f'<audio src="{END_CHIME}"/>'


def speak(body: str) -> str:
    return f"<speak>{body}</speak>"
