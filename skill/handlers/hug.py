"""The timed hug: guide in, hold exactly the asked time in silence, then a clear end cue."""

from __future__ import annotations

from ask_sdk_model import Response

from skill import ssml
from skill.durations import iso_seconds, spoken
from skill.turn import Turn

DEFAULT_S = 20
MIN_S, MAX_S = 5, 120

_ORDINAL = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth"]


def hug_length(turn: Turn) -> tuple[int | None, str | None]:
    """Seconds to hug, or None with a spoken correction when the ask is out of range."""
    raw = turn.slot_value("duration")
    if raw is None:
        return DEFAULT_S, None
    seconds = iso_seconds(raw)
    if seconds is None:
        return None, "I didn't catch how long. Try, hug for thirty seconds, or hug for a minute."
    if seconds < MIN_S:
        return None, (
            "That's a little short for a real hug. Try at least five seconds, "
            "like, hug for twenty seconds."
        )
    if seconds > MAX_S:
        return None, (
            "I can time hugs up to two minutes. Try, hug for a minute, or hug for two minutes."
        )
    return round(seconds), None


def weekly_count(count: int) -> str:
    if count <= len(_ORDINAL):
        return f"That's your {_ORDINAL[count - 1]} hug this week."
    return f"That's {count} hugs this week."


def hug(turn: Turn) -> Response:
    seconds, correction = hug_length(turn)
    if seconds is None:
        turn.set_mode(None)
        return turn.say(correction, "How long would you like to hug?")
    count = turn.store.record_hug(turn.household_id, seconds, turn.now)
    turn.set_mode(None)
    speech = (
        f"Let's hug for {spoken(seconds)}. Come close, and let your shoulders drop. "
        f"Take one slow breath together. {ssml.pause(1)} Starting now. "
        f"{ssml.pause(seconds)}"
        f"{ssml.chime()} And, time. Thank you for that hug. {weekly_count(count)}"
    )
    return turn.say(speech, end=True)
