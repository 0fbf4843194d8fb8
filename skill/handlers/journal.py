"""The journal: the last seven days of saved appreciations, newest first, briefly."""

from __future__ import annotations

from datetime import date, timedelta

from ask_sdk_model import Response

from skill import mirror, ssml
from skill.store import Appreciation
from skill.turn import Turn

WINDOW = timedelta(days=7)
MOST = 6
NEXT = "Want a question, a hug, or your appreciation round?"


def read_journal(turn: Turn) -> Response:
    if turn.household.journal_opt_in is not True:
        return turn.say(
            "Your journal is off, so I haven't kept any appreciations. It's offered the first "
            f"time you do an appreciation round. {NEXT}",
            NEXT, again="journal",
        )
    entries = turn.store.appreciations_since(turn.household_id, turn.now - WINDOW)
    if not entries:
        return turn.say(f"There's nothing in your journal from this week yet. {NEXT}", NEXT,
                        again="journal")
    zone = turn.zone
    today = turn.now.astimezone(zone).date()
    lines, last_day = [], None
    for entry in entries[:MOST]:
        day = entry.said_at.astimezone(zone).date()
        told = f"{ssml.text(retell(entry))}. {ssml.pause(0.5)}"
        lines.append(told if day == last_day else f"{_day(day, today)}, {told}")
        last_day = day
    more = len(entries) - MOST
    tail = f" And {more} more this week." if more > 0 else ""
    return turn.say(f"From your journal this week. {' '.join(lines)}{tail} {NEXT}", NEXT,
                    again="journal")


def _day(day: date, today: date) -> str:
    """When, as the couple would say it: today, yesterday, or the day of the week."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"On {day:%A}"


def retell(entry: Appreciation) -> str:
    """The appreciation told about the two of them, in one voice: "Sam appreciated that
    Alex made Sam tea"."""
    return mirror.retell(entry.text, entry.giver, entry.receiver)
