"""Rose, thorn, bud: both partners, paced within one response, with timed pauses."""

from __future__ import annotations

from ask_sdk_model import Response

from skill import screens, ssml
from skill.turn import Turn

PAUSE_S = 20
_PARTS = [
    ("rose", "a highlight of your day, something that went well"),
    ("thorn", "something that was hard today"),
    ("bud", "something you're looking forward to"),
]


def check_in(turn: Turn) -> Response:
    if names := turn.spoken_names:
        turns = (f"{names[0]}, you're first.", f"Now {names[1]}, your turn.")
    else:
        turns = ("Whoever would like to start, you're first.",
                 "Now the other one of you, your turn.")
    lines = ["Let's do rose, thorn, bud. Talk to each other, I'll keep time."]
    for opening in turns:
        lines.append(opening)
        for part, meaning in _PARTS:
            lines.append(f"Your {part}: {meaning}. {ssml.pause(PAUSE_S)}")
    lines.append("Thank you both for checking in. If a thorn feels heavy, be gentle with each "
                 "other tonight.")
    turn.set_mode(None)
    turn.store.record_ritual(turn.household_id, "checkin", turn.now)
    screens.show_ritual(turn, "Rose, thorn, bud", [f"{p.title()}: {m}" for p, m in _PARTS])
    return turn.say(" ".join(lines), end=True)
