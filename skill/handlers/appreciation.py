"""The evening appreciation round: by name, each partner says one thing they appreciated
about the other today; the speaker mirrors it back and closes the evening.

Steps: names (if unknown) -> journal opt-in (first time) -> first -> second -> goodnight.
An unfinished round resumes when started again within RESUME_WINDOW.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ask_sdk_model import Response

from skill import ssml
from skill.mirror import mirror
from skill.store import Appreciation
from skill.turn import Turn

RESUME_WINDOW = timedelta(hours=6)
INTENT, SLOT = "ShareAppreciationIntent", "appreciation"

_FILLERS = frozenset({"um", "umm", "uh", "uhm", "er", "erm", "hmm", "hm", "mm", "mmm", "ah",
                      "eh", "oh", "well", "so", "like", "okay", "ok"})


def _only_fillers(said: str) -> bool:
    return all(word.strip(".,!?;:-'\"").lower() in _FILLERS for word in said.split())


def start(turn: Turn) -> Response:
    state = turn.household.round_state or {}
    started = state.get("started_at")
    fresh = started is None or turn.now - datetime.fromisoformat(started) > RESUME_WINDOW
    if fresh:
        state = {"started_at": turn.now.isoformat(), "step": "first"}
        turn.remember(round_state=state)
        return advance(turn, preface="Let's begin your appreciation round.")
    return advance(turn, preface="Let's pick up your appreciation round where we stopped.")


def advance(turn: Turn, preface: str = "") -> Response:
    """Ask for whatever the round needs next."""
    turn.set_mode("round")
    household = turn.household
    if household.names is None:
        turn.session["round_step"] = "names"
        return turn.say(
            f"{preface} First, who's here tonight? Tell me your two first names, "
            "like, we're Sam and Alex.",
            "Tell me your two first names, like, we're Sam and Alex.",
        )
    if household.journal_opt_in is None:
        turn.session["round_step"] = "optin"
        return turn.say(
            f"{preface} Before we start: would you like me to keep your appreciations in a "
            "private journal, so you can hear them again this week? Yes or no.",
            "Should I keep your appreciations in a journal? Yes or no.",
        )
    step = (household.round_state or {}).get("step", "first")
    giver, receiver = household.names if step == "first" else household.names[::-1]
    turn.session["round_step"] = step
    ask = (
        f"{ssml.text(giver)}, what's one thing you appreciated about {ssml.text(receiver)} today?"
    )
    nudge = f"{ssml.text(giver)}, tell {ssml.text(receiver)} one thing you appreciated today."
    return turn.elicit(INTENT, SLOT, f"{preface} {ask}".strip(), nudge)


def share(turn: Turn) -> Response:
    """One partner's appreciation: mirror it back, save it if the journal is on, move on."""
    household = turn.household
    said = turn.slot_value(SLOT)
    hesitated = said is not None and _only_fillers(said)  # "um..." is a pause, not an answer
    if turn.mode != "round" and not household.round_state:
        return turn.say(
            "That's lovely to hear. To share appreciations with each other, say, "
            "start our appreciation round.",
            "Say, start our appreciation round, or give us a question.",
        )
    if household.names is None or household.journal_opt_in is None:
        return advance(turn)
    if said is None or hesitated:
        return advance(turn, preface="Take your time." if hesitated else
                       "Sorry, I didn't catch that.")
    step = (household.round_state or {}).get("step", "first")
    giver, receiver = household.names if step == "first" else household.names[::-1]
    if household.journal_opt_in:
        saved = Appreciation(giver=giver, receiver=receiver, text=said, said_at=turn.now)
        turn.store.add_appreciation(turn.household_id, saved)
    echo = f"{ssml.text(receiver)}, {ssml.text(mirror(said, giver, receiver))}. {ssml.pause(1)}"
    if step == "first":
        turn.remember(round_state={**(household.round_state or {}), "step": "second"})
        return advance(turn, preface=f"Thank you. {echo}")
    turn.remember(round_state=None)
    turn.set_mode(None)
    said_aloud = ("A thank-you, said out loud." if (household.round_state or {}).get("skipped")
                  else "Two thank-yous, said out loud.")
    return turn.say(
        f"{echo} {said_aloud} That's a beautiful way to end a day. "
        f"Sleep well, {ssml.text(giver)} and {ssml.text(receiver)}. Goodnight.",
        end=True,
    )


def skip(turn: Turn) -> Response:
    """'Skip' or 'next' when it is someone's turn: nothing is said back or saved."""
    household = turn.household
    if household.names is None or household.journal_opt_in is None:
        return advance(turn)
    step = (household.round_state or {}).get("step", "first")
    if step == "first":
        turn.remember(round_state={**(household.round_state or {}), "step": "second",
                                   "skipped": True})
        return advance(turn, preface="Okay, we'll skip that one.")
    turn.remember(round_state=None)
    turn.set_mode(None)
    first, second = household.names
    return turn.say(
        f"Okay, we'll skip that one. Some evenings are like that. "
        f"Sleep well, {ssml.text(first)} and {ssml.text(second)}. Goodnight.",
        end=True,
    )


def quiet_round(turn: Turn) -> Response:
    """Both turns paced with timed pauses; nothing is heard or recorded."""
    if names := turn.spoken_names:
        first, second = names
        turns = (f"{first}, turn to {second} and tell them", f"Now {second}, tell {first}")
    else:
        turns = ("Whoever would like to start, turn to your partner and tell them",
                 "Now swap, and tell your partner")
    turn.set_mode(None)
    return turn.say(
        "A quiet appreciation round. I won't listen or record anything. "
        f"{turns[0]} one thing you appreciated about them today. {ssml.pause(30)}"
        f"Thank you. {turns[1]} one thing you appreciated about them today. {ssml.pause(30)}"
        "Thank you both. Sleep well. Goodnight.",
        end=True,
    )


def set_names(turn: Turn) -> Response:
    first, second = turn.slot_value("firstName"), turn.slot_value("secondName")
    if not first or not second:
        return turn.say(
            "I need both first names, like, we're Sam and Alex.",
            "Tell me your two first names, like, we're Sam and Alex.",
        )
    first, second = first.title(), second.title()
    turn.remember(first_name=first, second_name=second)
    hello = f"Lovely to meet you, {ssml.text(first)} and {ssml.text(second)}."
    if turn.mode == "round":
        return advance(turn, preface=hello)
    return turn.say(
        f"{hello} "
        "Want a question, a hug, or your appreciation round?",
        "Try, give us a question, or start our appreciation round.",
    )


def answer_opt_in(turn: Turn, keep: bool) -> Response:
    turn.remember(journal_opt_in=keep)
    preface = (
        "Okay, I'll keep them in your journal. Say, read our journal, any time this week."
        if keep
        else "Okay, I won't keep anything you say."
    )
    return advance(turn, preface=preface)
