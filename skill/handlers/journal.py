"""The journal: the last seven days of saved appreciations, newest first, briefly."""

from __future__ import annotations

from datetime import timedelta

from ask_sdk_model import Response

from skill import ssml
from skill.handlers.appreciation import mirror
from skill.turn import Turn

WINDOW = timedelta(days=7)
MOST = 6
NEXT = "Want a question, a hug, or your appreciation round?"


def read_journal(turn: Turn) -> Response:
    if turn.household.journal_opt_in is not True:
        return turn.say(
            "Your journal is off, so I haven't kept any appreciations. It's offered the first "
            f"time you do an appreciation round. {NEXT}",
            NEXT,
        )
    entries = turn.store.appreciations_since(turn.household_id, turn.now - WINDOW)
    if not entries:
        return turn.say(f"There's nothing in your journal from this week yet. {NEXT}", NEXT)
    lines = []
    for entry in entries[:MOST]:
        day = entry.said_at.strftime("%A")
        lines.append(
            f"On {day}, {ssml.text(entry.giver)} appreciated that {ssml.text(entry.receiver)} "
            f"{ssml.text(_third_person(mirror(entry.text)))}. {ssml.pause(0.5)}"
        )
    more = len(entries) - MOST
    tail = f" And {more} more this week." if more > 0 else ""
    return turn.say(f"From your journal this week. {' '.join(lines)}{tail} {NEXT}", NEXT)


def _third_person(text: str) -> str:
    """Drop a leading 'you' so 'you made them laugh' reads after the receiver's name."""
    words = text.split()
    if words and words[0].lower() == "you":
        words = words[1:]
    return " ".join(words) if words else text
