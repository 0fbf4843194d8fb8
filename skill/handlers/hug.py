"""The timed hug: guide in, hold exactly the asked time in silence, then a clear end cue.
"Again" or "one more" right after a hug holds the same length again."""

from __future__ import annotations

from datetime import timedelta

from ask_sdk_model import Response

from skill import screens, ssml
from skill.durations import asked_seconds, spoken
from skill.turn import Turn

DEFAULT_S = 20
MIN_S, MAX_S = 5, 120
RECENT = timedelta(minutes=15)  # "one more" this soon after a hug means another hug

# What a hug means, never how many: said after the first hug of the week, and after others.
_FIRST_THIS_WEEK = "A lovely way to start the week's hugs."
_MORE_THIS_WEEK = ("You keep making time for each other this week. That matters.",
                   "Little moments like this add up to a lot of closeness.",
                   "Hugs like that, day after day, are how closeness grows.")


_CORRECTIONS = {
    "unheard": "I didn't catch how long. Try, hug for thirty seconds, or hug for a minute.",
    "too short": "That's a little short for a real hug. Try at least five seconds, like, hug "
                 "for twenty seconds.",
    "too long": "I can time hugs up to two minutes. Try, hug for a minute, or hug for two "
                "minutes.",
}


def hug_length(turn: Turn) -> tuple[int | None, str | None]:
    """Seconds to hug, or None with a spoken correction when the ask is out of range."""
    asked = asked_seconds(turn.slot_value("duration"), DEFAULT_S, MIN_S, MAX_S)
    return (None, _CORRECTIONS[asked]) if isinstance(asked, str) else (asked, None)


def hug(turn: Turn) -> Response:
    if turn.slot_value("again") and not turn.slot_value("duration"):
        return again(turn)
    seconds, correction = hug_length(turn)
    if seconds is None:
        turn.set_mode(None)
        return turn.say(correction, "How long would you like to hug?")
    return hug_for(turn, seconds)


def hug_for(turn: Turn, seconds: int) -> Response:
    count = turn.store.record_hug(turn.household_id, seconds, turn.now)
    turn.set_mode(None)
    speech = (
        f"Let's hug for {spoken(seconds)}. Come close, and let your shoulders drop. "
        f"Take one slow breath together. {ssml.pause(1)} Starting now. "
        f"{ssml.pause(seconds)}"
        f"{ssml.chime()} And, time. Thank you for that hug. {_what_it_means(count)}"
    )
    screens.show_hug(turn, seconds, speech)
    return turn.say(speech, end=True)


def _what_it_means(count: int) -> str:
    if count <= 1:
        return _FIRST_THIS_WEEK
    return _MORE_THIS_WEEK[count % len(_MORE_THIS_WEEK)]


def _last_hug_seconds(turn: Turn, within: timedelta) -> int | None:
    hugs = [r for r in turn.store.rituals_since(turn.household_id, turn.now - within)
            if r.kind == "hug" and r.seconds]
    return hugs[-1].seconds if hugs else None


def just_hugged(turn: Turn) -> bool:
    return _last_hug_seconds(turn, RECENT) is not None


def again(turn: Turn) -> Response:
    """Another hug as long as the last one this week (the default length if none)."""
    seconds = _last_hug_seconds(turn, timedelta(days=7)) or DEFAULT_S
    return hug_for(turn, min(max(seconds, MIN_S), MAX_S))
