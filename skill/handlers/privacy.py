"""Forgetting a household: on request after a yes, and when the skill is disabled."""

from __future__ import annotations

from ask_sdk_model import Response

from skill.turn import Mode, Turn


def ask_forget(turn: Turn) -> Response:
    turn.set_mode(Mode.FORGET)
    return turn.say(
        "This deletes everything I remember about your household: your names, the questions "
        "you've heard, your hugs and your journal. Should I forget you? Yes or no.",
        "Should I delete everything about your household? Yes or no.",
    )


def confirm_forget(turn: Turn, yes: bool) -> Response:
    turn.set_mode(None)
    if not yes:
        return turn.say("Okay, I haven't deleted anything.", end=True)
    forget_household(turn)
    turn.session.clear()
    return turn.say("Done. I've forgotten everything about your household.", end=True)


def forget_household(turn: Turn) -> None:
    """Everything kept about the household goes: its rows, and what memory holds for it."""
    turn.store.forget(turn.household_id)
    turn.services.zones.forget(turn.input.request_envelope.context.system)
