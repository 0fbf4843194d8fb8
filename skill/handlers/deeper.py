"""A deeper conversation, step by step ("let's go deeper tonight"): three sets of questions,
each a little deeper, three questions a set, one at a time.

Partners talk to each other for minutes after a question, so each question ends the session
(a listening speaker would take their conversation for commands); "ask Closer Together for
the next question" (or "pass") goes on, the same evening, where they stopped. Questions are
dealt like cards: a household hears none twice until it has heard them all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ask_sdk_model import Response

from skill import screens, ssml
from skill.cards import default_sequence
from skill.turn import Mode, Turn

RESUME_WINDOW = timedelta(hours=6)
PER_SET = 3
SETS = 3
ASK_NEXT = "When you're both ready, ask Closer Together for the next question."
CONTINUE = "Say next for the next question, or stop to rest here."
_SET_OPENINGS = {1: "The first set: warm and personal.",
                 2: "The second set: a little deeper, about each other.",
                 3: "The last set: the deepest, and the most tender."}


def _state(turn: Turn) -> dict:
    return dict(turn.household.deep_state or {})


def waiting(turn: Turn) -> bool:
    """A deeper conversation begun this evening and not finished."""
    started = _state(turn).get("started_at")
    return started is not None and turn.now - datetime.fromisoformat(started) <= RESUME_WINDOW


def start(turn: Turn) -> Response:
    if waiting(turn) and _state(turn).get("current"):
        return _ask(turn, _state(turn), "Let's pick up where you stopped.")
    state = {"started_at": turn.now.isoformat(), "set": 1, "asked": 0}
    intro = ("A deeper conversation: three sets of questions, each a little deeper. Take turns "
             "answering, and pass whenever you like. After each question, talk as long as you "
             f"like. {ASK_NEXT}")
    return _deal(turn, state, intro)


def next_question(turn: Turn, preface: str = "") -> Response:
    state = _state(turn)
    if not waiting(turn):
        return start(turn)
    if state.get("set", 1) == SETS and state.get("asked", 0) >= PER_SET:
        return _finish(turn)
    return _deal(turn, state, preface)


def _deal(turn: Turn, state: dict, preface: str) -> Response:
    if state.get("asked", 0) >= PER_SET:
        state = {**state, "set": state.get("set", 1) + 1, "asked": 0}
    sequence = default_sequence()
    step_id, _ = turn.store.deal_card(turn.household_id, sequence.ids(state["set"]))
    state = {**state, "asked": state.get("asked", 0) + 1, "current": step_id}
    turn.remember(deep_state=state)
    return _ask(turn, state, preface)


def _ask(turn: Turn, state: dict, preface: str) -> Response:
    step = default_sequence().get(state["current"])
    if step is None:  # a question retired since: go on with a new one
        return _deal(turn, {**state, "asked": state.get("asked", 1) - 1}, preface)
    opening = _SET_OPENINGS[state["set"]] if state.get("asked") == 1 else ""
    turn.set_mode(None)
    screens.show_question(turn, step.text, f"Going deeper · set {state['set']}", ASK_NEXT)
    return turn.say(f"{preface} {opening} {ssml.text(step.text)} {ssml.pause(1)} "
                    "Take your time.", end=True)


def repeat_question(turn: Turn) -> Response:
    state = _state(turn)
    if not state.get("current"):
        return start(turn)
    step = default_sequence().get(state["current"])
    text = ssml.text(step.text) if step else ""
    return turn.say(f"Again: {text} {ssml.pause(1)} Take your time.", end=True)


def thanked(turn: Turn) -> Response:
    turn.set_mode(None)
    return turn.say(f"Thank you both. {ASK_NEXT}", end=True)


def rest(turn: Turn) -> Response:
    turn.set_mode(None)
    return turn.say("Okay, resting here. You can pick this up later tonight: ask Closer "
                    "Together to go deeper.", end=True)


def explain(turn: Turn, counselor: str = "") -> Response:
    turn.set_mode(Mode.DEEP)
    return turn.say("Three sets of questions, each a little deeper. Take turns answering; "
                    f"passing is always fine. {CONTINUE} {counselor}", CONTINUE)


def _finish(turn: Turn) -> Response:
    turn.remember(deep_state=None)
    turn.set_mode(None)
    turn.store.record_ritual(turn.household_id, "deep_conversation", turn.now)
    return turn.say("That was the last question. Thank you for going deeper together. Before "
                    "you go, tell each other one thing you appreciated about this "
                    "conversation.", end=True)
