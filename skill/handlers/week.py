"""A look back at the last seven days: what the two of you made time for, said warmly, with
one line from the journal when it is on. Never a score, and never a streak: a quiet day is
not mentioned, and a quiet week is a blank page, not a failure."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from ask_sdk_model import Response

from skill import screens, ssml
from skill.mirror import retell
from skill.turn import Turn

WINDOW = timedelta(days=7)
NEXT = "A question, a hug, or your appreciation round?"
# How each ritual is named in the summary: (one, several).
_NAMES = {
    "appreciation_round": ("an appreciation round", "{n} appreciation rounds"),
    "quiet_round": ("a quiet round", "{n} quiet rounds"),
    "hug": ("a hug", "{n} hugs"),
    "question": ("a conversation question", "{n} conversation questions"),
    "checkin": ("a check in", "{n} check ins"),
    "listening": ("a listening practice", "{n} listening practices"),
    "deep_conversation": ("a deeper conversation", "{n} deeper conversations"),
}
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve")


def look_back(turn: Turn) -> Response:
    done = Counter(r.kind for r in turn.store.rituals_since(turn.household_id,
                                                            turn.now - WINDOW))
    if not done:
        screens.show_week(turn, "This week is still a blank page, and tonight could start it.")
        return turn.say("This week is still a blank page, and tonight could start it. "
                        f"{NEXT}", NEXT, again="week")
    parts = [_named(kind, done[kind]) for kind in _NAMES if done[kind]]
    summary = f"This week, the two of you made time for {_listed(parts)}."
    closing = ("That's a lot of closeness." if sum(done.values()) >= 5
               else "Small moments like these add up.")
    said = f"{summary} {closing} {_one_line(turn)}"
    screens.show_week(turn, said)
    return turn.say(f"{said} {NEXT}".replace("  ", " "), NEXT, again="week")


def _named(kind: str, count: int) -> str:
    one, several = _NAMES[kind]
    if count == 1:
        return one
    return several.format(n=_NUMBERS[count] if count < len(_NUMBERS) else count)


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _one_line(turn: Turn) -> str:
    """The newest appreciation of the week, retold, when the journal is on."""
    if turn.household.journal_opt_in is not True:
        return ""
    kept = turn.store.appreciations_since(turn.household_id, turn.now - WINDOW)
    if not kept:
        return ""
    newest = kept[0]
    return f"One thing said: {ssml.text(retell(newest.text, newest.giver, newest.receiver))}."
