"""Launch, help, stop, fallback, yes/no outside a question, start over, session end."""

from __future__ import annotations

from ask_sdk_model import Response

from skill import ssml
from skill.handlers import appreciation, cards, privacy
from skill.turn import Turn

TRY = "Try, give us a question, start a twenty second hug, or start our appreciation round."
COUNSELOR = (
    "I'm here for small everyday rituals. For hard times, a couples counselor is the right "
    "person to talk to."
)


def launch(turn: Turn) -> Response:
    before = turn.store.record_visit(turn.household_id)
    turn.set_mode(None)
    if before.is_new:
        return turn.say(
            "Welcome to Closer Together, a few small rituals to feel closer, every day. "
            "I can give you a question to talk about, time a hug, or guide an evening "
            f"appreciation round. {TRY}",
            TRY,
        )
    names = before.names
    hello = f"Welcome back, {ssml.text(names[0])} and {ssml.text(names[1])}." if names else (
        "Welcome back.")
    if before.round_state:
        hint = "Your appreciation round is waiting. Say, start our appreciation round."
        return turn.say(f"{hello} {hint}", TRY)
    return turn.say(f"{hello} A question, a hug, or your appreciation round?", TRY)


ROUND_HELP = ("In the appreciation round, each of you says one thing you appreciated about "
              "the other today, and I'll say it back.")


def help_(turn: Turn) -> Response:
    if turn.mode == "round":  # explain, then ask again what the round is waiting for
        return appreciation.advance(turn, preface=f"{ROUND_HELP} {COUNSELOR}")
    by_mode = {
        "cards": "You're in the middle of a question. Say next for another, repeat to hear it "
        "again, or ask for a kind, like a fun question or a question about our dreams.",
        "forget_confirm": "Say yes to delete everything about your household, or no to keep it.",
    }
    specific = by_mode.get(turn.mode or "", (
        "I can give you a conversation question, time a hug, guide an appreciation round, or do "
        "a rose, thorn, bud check in. Say, read our journal, to hear this week's appreciations, "
        "or, forget us, to delete your data."
    ))
    return turn.say(f"{specific} {COUNSELOR}", "What would you like to do?")


def stop(turn: Turn) -> Response:
    """Stop or cancel. An unfinished appreciation round stays saved so it can resume."""
    turn.set_mode(None)
    return turn.say("Okay. Take care of each other.", end=True)


def fallback(turn: Turn) -> Response:
    if turn.mode == "round":
        return appreciation.advance(turn, preface="Sorry, I didn't catch that.")
    if turn.mode == "forget_confirm":
        return turn.say("Please say yes to delete everything, or no to keep it.",
                        "Yes or no?")
    if turn.mode == "cards":  # a remark about the question, most likely: keep the table open
        return turn.say(f"Sorry, I didn't catch that. {cards.CONTINUE}", cards.CONTINUE,
                        repeatable=False)
    return turn.say(f"Sorry, I didn't catch that. {TRY}", TRY, repeatable=False)


def yes_no(turn: Turn, yes: bool) -> Response:
    mode, step = turn.mode, turn.session.get("round_step")
    if mode == "forget_confirm":
        return privacy.confirm_forget(turn, yes)
    if mode == "round" and step == "optin":
        return appreciation.answer_opt_in(turn, yes)
    if mode == "cards":
        if yes:
            return cards.next_card(turn)
        return turn.say("Okay. Enjoy your conversation.", end=True)
    if mode == "round":
        return appreciation.advance(turn)
    return turn.say(f"I didn't ask a question just now. {TRY}", TRY, repeatable=False)


def repeat(turn: Turn) -> Response:
    last = turn.session.get("last_speech")
    if last:
        return turn.say(last, turn.session.get("last_reprompt") or TRY,
                        end=turn.session.get("last_reprompt") is None)
    card = cards.repeat_card(turn)
    return card or turn.say(f"There's nothing to repeat yet. {TRY}", TRY, repeatable=False)


def start_over(turn: Turn) -> Response:
    if turn.mode == "round":
        turn.remember(round_state=None)
        return appreciation.start(turn)
    if turn.mode == "cards":
        return cards.deal(turn, cards.ANY, preface="Starting fresh.")
    return launch(turn)


def navigate_home(turn: Turn) -> Response:
    turn.set_mode(None)
    return turn.say("Okay.", end=True)


def unknown(turn: Turn) -> Response:
    return turn.say(f"I can't do that one. {TRY}", TRY, repeatable=False)


def trouble(turn: Turn, store_unreachable: bool) -> Response:
    if store_unreachable:
        return turn.say("Sorry, I can't reach my memory right now. Please try again in a moment.",
                        end=True)
    return turn.say("Sorry, something went wrong on my side. Please try again.", end=True)
