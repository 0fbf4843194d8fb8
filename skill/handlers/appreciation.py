"""The evening appreciation round: by name, each partner says one thing they appreciated
about the other today; the speaker says it back and closes the evening.

Steps, kept in the household's ``round_state`` (the store, not the session, says where the
round is): names (if unknown) -> journal offer (the first time) -> first -> second ->
goodnight. What a partner says is first read for what it is (skill/mirror.py): a "thank you"
from the partner just thanked is acknowledged and the round goes on; "pass" and "nothing
really" are fine; a hurt is never said back as praise, and the round offers to stop. An
unfinished round resumes when started again within RESUME_WINDOW.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ask_sdk_model import Response

from skill import screens, ssml
from skill.mirror import Answer, classify, mirror
from skill.store import Appreciation
from skill.turn import Mode, Turn

RESUME_WINDOW = timedelta(hours=6)
INTENT, SLOT = "ShareAppreciationIntent", "appreciation"
NAMES_INTENT, NAME_SLOT = "SetNamesIntent", "firstName"
MOST_NAME_TRIES = 2  # then the round goes on without names
LONGEST_NAME = 40
LONGEST_APPRECIATION = 500
EXPLAINED = "In this round, each of you tells the other one thing you appreciated today."
ASK_NAMES = "Tell me your two first names, like, Sam and Alex."


# -- where the round is -------------------------------------------------------------------------


def _state(turn: Turn) -> dict:
    return dict(turn.household.round_state or {})


def waiting(turn: Turn) -> bool:
    """An unfinished round from this evening."""
    started = _state(turn).get("started_at")
    return started is not None and turn.now - datetime.fromisoformat(started) <= RESUME_WINDOW


def _partners(turn: Turn, state: dict) -> tuple[str, str]:
    """Who gives and who receives at this step, as spoken (escaped)."""
    names = turn.spoken_names
    if names is None:  # going on without names
        return ("whoever would like to start", "your partner") if state.get("step") == "first" \
            else ("now the other one of you", "your partner")
    return names if state.get("step") == "first" else (names[1], names[0])


def _names_known(turn: Turn, state: dict) -> bool:
    return turn.household.names is not None or bool(state.get("nameless"))


# -- starting and asking ------------------------------------------------------------------------


def start(turn: Turn) -> Response:
    if waiting(turn):
        return advance(turn, preface="Let's pick up your round where you stopped.")
    turn.remember(round_state={"started_at": turn.now.isoformat(), "step": "first"})
    return advance(turn, preface="Let's begin your appreciation round.")


def advance(turn: Turn, preface: str = "") -> Response:
    """Ask for whatever the round needs next."""
    state = _state(turn)
    if not state:  # asked to go on, but the round was closed meanwhile
        state = {"started_at": turn.now.isoformat(), "step": "first"}
        turn.remember(round_state=state)
    turn.set_mode(Mode.ROUND)
    if not _names_known(turn, state):
        return turn.elicit(NAMES_INTENT, NAME_SLOT,
                           f"{preface} First, who's here tonight? {ASK_NAMES}", ASK_NAMES)
    if turn.household.journal_opt_in is None:
        return turn.say(
            f"{preface} Would you like me to keep your appreciations in a private journal, "
            "to hear again this week? Yes or no.",
            "Should I keep your appreciations in a journal? Yes or no.")
    if state.get("step") == "hurt":
        return turn.say(f"{preface} Would you like to stop the round here for tonight? "
                        "Yes or no.", "Shall we stop here for tonight? Yes or no.")
    giver, receiver = _partners(turn, state)
    if turn.spoken_names is None:
        ask = f"{giver.capitalize()}: what's one thing you appreciated about {receiver} today?"
        nudge = "Tell your partner one thing you appreciated today."
    else:
        ask = f"{giver}, what's one thing you appreciated about {receiver} today?"
        nudge = f"{giver}, tell {receiver} one thing you appreciated today."
    screens.show_round(turn, state.get("step"))
    return turn.elicit(INTENT, SLOT, f"{preface} {ask}", nudge)


# -- what a partner said ------------------------------------------------------------------------


def share(turn: Turn) -> Response:
    """One partner's answer: said back and kept if it is an appreciation; otherwise met
    for what it is."""
    state = _state(turn)
    if turn.mode is not Mode.ROUND and not waiting(turn):
        return turn.say("That's lovely to hear. To share appreciations with each other, say, "
                        "start our appreciation round.",
                        "Say, start our appreciation round, or give us a question.")
    if not _names_known(turn, state) or turn.household.journal_opt_in is None:
        return advance(turn)
    said = turn.slot_value(SLOT)
    if said is None:
        return not_heard(turn)
    if len(said) > LONGEST_APPRECIATION:
        return advance(turn, preface="That's a lot to hold at once. Could you say the heart of "
                                     "it in a sentence or two?")
    answer = classify(said)
    if answer is Answer.HESITATION:
        return advance(turn, preface="Take your time.")
    if answer is Answer.THANKS:
        return thanked(turn)
    if answer is Answer.PASS:
        return skip(turn)
    if answer is Answer.NOTHING:
        return _nothing_today(turn, state)
    if answer is Answer.HURT:
        return _hurt(turn, state)
    return _appreciated(turn, state, said)


def _appreciated(turn: Turn, state: dict, said: str) -> Response:
    names = turn.household.names
    first_turn = state.get("step") == "first"
    if names is not None:
        giver, receiver = names if first_turn else names[::-1]
    else:
        giver, receiver = "Your partner", "your partner"
    if turn.household.journal_opt_in and names is not None:
        saved = Appreciation(giver=giver, receiver=receiver, text=said, said_at=turn.now)
        turn.store.add_appreciation(turn.household_id, saved)
    echo = f"{ssml.text(mirror(said, giver, receiver))}. {ssml.pause(1)}"
    if names is not None:
        echo = f"{ssml.text(receiver)}, {echo}"
    state["shared"] = state.get("shared", 0) + 1
    if first_turn:
        turn.remember(round_state={**state, "step": "second"})
        return advance(turn, preface=f"Thank you. {echo}")
    return _close(turn, state, echo)


def thanked(turn: Turn) -> Response:
    """The partner just thanked says thank you: warmly taken, and it is their turn."""
    state = _state(turn)
    if not state or not _names_known(turn, state) or turn.household.journal_opt_in is None:
        return advance(turn)
    if state.get("step") == "second" and state.get("shared"):
        return advance(turn, preface="It's lovely to hear, isn't it? Now it's your turn.")
    return advance(turn, preface="You're welcome.")


def _nothing_today(turn: Turn, state: dict) -> Response:
    if state.get("nudged") == state.get("step"):
        return skip(turn, preface="That's okay. Some days are like that.")
    turn.remember(round_state={**state, "nudged": state.get("step")})
    return advance(turn, preface="That's okay. It can be something small: a look, a kindness, "
                                 "a laugh. Or say, pass.")


def _hurt(turn: Turn, state: dict) -> Response:
    """Not said back, not kept: the hurt is acknowledged and the round offers to stop."""
    turn.remember(round_state={**state, "step": "hurt", "hurt_at": state.get("step")})
    turn.set_mode(Mode.ROUND)
    return turn.say(
        "That sounds like it hurt, and it matters. This round may not be the place for it "
        "tonight. Would you like to stop here? Yes or no.",
        "Shall we stop the round here for tonight? Yes or no.")


def skip(turn: Turn, preface: str = "That's fine. Passing is always okay.") -> Response:
    """'Skip', 'next' or a pass when it is someone's turn: nothing is said back or kept."""
    state = _state(turn)
    if not _names_known(turn, state) or turn.household.journal_opt_in is None:
        return advance(turn)
    state["passes"] = state.get("passes", 0) + 1
    if state.get("step") == "first":
        turn.remember(round_state={**state, "step": "second"})
        return advance(turn, preface=preface)
    return _close(turn, state, preface)


def answered(turn: Turn, yes: bool) -> Response:
    """Yes or no in the round: the journal offer, or whether to stop after a hurt."""
    household, state = turn.household, _state(turn)
    if _names_known(turn, state) and household.journal_opt_in is None:
        turn.remember(journal_opt_in=yes)
        return advance(turn, preface="Okay, I'll keep them in your journal. Say, read our "
                                     "journal, any time this week." if yes
                       else "Okay, I won't keep anything you say.")
    if state.get("step") == "hurt":
        return _stop_after_hurt(turn) if yes else _go_on_after_hurt(turn, state)
    return advance(turn)


def _stop_after_hurt(turn: Turn) -> Response:
    turn.remember(round_state=None)
    turn.set_mode(None)
    return turn.say(
        "Okay, we'll stop here for tonight. Be gentle with each other. If the hurt keeps "
        "coming back, a couples counselor is the right person to talk to. Goodnight.",
        end=True)


def _go_on_after_hurt(turn: Turn, state: dict) -> Response:
    back = state.get("hurt_at") or "first"
    turn.remember(round_state={**state, "step": back, "hurt": True})
    return advance(turn, preface="Okay, we'll go on. If there's something you appreciated too, "
                                 "say it now, or say, pass.")


def not_heard(turn: Turn) -> Response:
    """Something the round could not place. Asked for names twice without hearing them,
    it goes on without them rather than asking forever."""
    state = _state(turn)
    if state and not _names_known(turn, state):
        tries = state.get("name_tries", 0) + 1
        if tries >= MOST_NAME_TRIES:
            turn.remember(round_state={**state, "nameless": True, "name_tries": tries})
            return advance(turn, preface="Let's go on without names tonight.")
        turn.remember(round_state={**state, "name_tries": tries})
    return advance(turn, preface="Sorry, I didn't catch that.")


# -- closing ------------------------------------------------------------------------------------


def _close(turn: Turn, state: dict, said_back: str) -> Response:
    turn.remember(round_state=None)
    turn.set_mode(None)
    turn.store.record_ritual(turn.household_id, "appreciation_round", turn.now)
    shared = state.get("shared", 0)
    if state.get("hurt"):
        summary = "Thank you both for staying with it tonight. Be gentle with each other."
    elif shared >= 2:
        summary = "Two appreciations, said out loud. That's a lovely way to end a day."
    elif shared == 1:
        summary = "One appreciation, said out loud. That's a lovely way to end a day."
    else:
        summary = "Some evenings are like that, and that's okay."
    names = turn.spoken_names
    goodbye = f"Sleep well, {names[0]} and {names[1]}." if names else "Sleep well, you two."
    return turn.say(f"{said_back} {summary} {goodbye}", end=True)


# -- the quiet round and names ------------------------------------------------------------------


def quiet_round(turn: Turn) -> Response:
    """Both turns paced with timed pauses; nothing is heard or recorded."""
    if names := turn.spoken_names:
        first, second = names
        turns = (f"{first}, turn to {second} and tell them", f"Now {second}, tell {first}")
    else:
        turns = ("Whoever would like to start, turn to your partner and tell them",
                 "Now swap, and tell your partner")
    turn.set_mode(None)
    turn.store.record_ritual(turn.household_id, "quiet_round", turn.now)
    screens.show_ritual(turn, "A quiet appreciation round", screens.QUIET_ROUND)
    return turn.say(
        "A quiet appreciation round. I won't listen or record anything. "
        f"{turns[0]} one thing you appreciated today. {ssml.pause(30)}"
        f"Thank you. {turns[1]} one thing you appreciated today. {ssml.pause(30)}"
        "Thank you both. Sleep well.",
        end=True,
    )


def set_names(turn: Turn) -> Response:
    first, second = (_name(turn.slot_value("firstName")),
                     _name(turn.slot_value("secondName")))
    if not first or not second:
        if turn.mode is Mode.ROUND:
            return not_heard(turn)
        return turn.say(f"I need both first names. {ASK_NAMES}", ASK_NAMES)
    if len(first) > LONGEST_NAME or len(second) > LONGEST_NAME:
        return turn.say("That's a long name to hold on to. Just your first names, please.",
                        ASK_NAMES)
    turn.remember(first_name=first, second_name=second)
    hello = f"Lovely to meet you, {ssml.text(first)} and {ssml.text(second)}."
    if turn.mode is Mode.ROUND or waiting(turn):
        return advance(turn, preface=hello)
    return turn.say(f"{hello} A question, a hug, or your appreciation round?",
                    "Try, give us a question, or start our appreciation round.")


def _name(said: str | None) -> str | None:
    """A first name as it should be written: "mary ann" -> "Mary Ann", "jean-luc" ->
    "Jean-Luc", "o'brien" -> "O'Brien" (Alexa and the speaker hear names in lower case)."""
    if not said:
        return None
    words = said.split()
    return " ".join(w if any(c.isupper() for c in w) else _capitalized(w) for w in words)


def _capitalized(word: str) -> str:
    out, upper = [], True
    for char in word:
        out.append(char.upper() if upper else char)
        upper = char in "-'’"
    return "".join(out)
