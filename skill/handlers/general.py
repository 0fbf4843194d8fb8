"""Launch, help, thanks, next, repeat, yes/no, stop, fallback, start over: the words around
the rituals, each answered for what the session is in the middle of."""

from __future__ import annotations

from ask_sdk_model import Response

from skill import ssml
from skill.handlers import appreciation, cards, care, deeper, hug, journal, privacy, week
from skill.turn import Mode, Turn

TRY = "Try, give us a question, start a hug, or start our appreciation round."


# -- opening ----------------------------------------------------------------------------------


def launch(turn: Turn) -> Response:
    before = turn.store.record_visit(turn.household_id)
    turn.set_mode(None)
    return first_welcome(turn) if before.is_new else welcome_back(turn)


def first_welcome(turn: Turn) -> Response:
    return turn.say("Welcome to Closer Together: small rituals to feel closer, every day. "
                    f"{TRY}", TRY, again="first_welcome")


def welcome_back(turn: Turn) -> Response:
    names = turn.household.names
    hello = (f"Welcome back, {ssml.text(names[0])} and {ssml.text(names[1])}." if names
             else "Welcome back.")
    if appreciation.waiting(turn):
        return turn.say(f"{hello} Your round is waiting. Say, start our appreciation round.",
                        TRY, again="welcome")
    if deeper.waiting(turn):
        return turn.say(f"{hello} Your deeper conversation is waiting. Say, next question.",
                        TRY, again="welcome")
    return turn.say(f"{hello} A question, a hug, or your round?", TRY, again="welcome")


def help_(turn: Turn) -> Response:
    """What can be said now, in a breath; the counselor line once a session."""
    counselor = turn.counselor_once()
    mode = turn.mode
    if mode is Mode.ROUND:  # explain, then ask again what the round is waiting for
        return appreciation.advance(turn, preface=f"{appreciation.EXPLAINED} {counselor}")
    if mode is Mode.DEEP:
        return deeper.explain(turn, counselor)
    if mode is Mode.CARE:
        return care.repeat_offer(turn)
    if mode is Mode.FORGET:
        return turn.say("Say yes to delete everything about your household, or no to keep it.",
                        "Yes or no?")
    if mode is Mode.CARDS:
        return turn.say(f"Say next for another question, repeat to hear it again, or ask for "
                        f"something lighter or deeper. {counselor}", cards.CONTINUE)
    return turn.say(
        "Ask for a question, a hug, or your appreciation round. Or say, let's go deeper, "
        f"or, read our journal. {counselor}", "What would you like to do?", again="help")


# -- in the middle of something ---------------------------------------------------------------


def thanks(turn: Turn) -> Response:
    """"Thank you" is an answer, never a goodbye."""
    mode = turn.mode
    if mode is Mode.ROUND or appreciation.waiting(turn):
        return appreciation.thanked(turn)
    if mode is Mode.DEEP:
        return deeper.thanked(turn)
    if mode is Mode.CARDS:
        turn.set_mode(None)
        return turn.say("You're welcome. Enjoy the conversation.", end=True)
    turn.set_mode(None)
    return turn.say("You're welcome. Take care of each other.", end=True)


def next_(turn: Turn) -> Response:
    """"Next", "skip", "pass", "one more": the next of whatever is going on."""
    mode = turn.mode
    if mode is Mode.ROUND:
        return appreciation.skip(turn)
    if mode is Mode.DEEP or (mode is None and deeper.waiting(turn)):
        return deeper.next_question(turn)
    if mode is None and hug.just_hugged(turn):  # "one more" right after a hug
        return hug.again(turn)
    return cards.next_card(turn)


def repeat(turn: Turn) -> Response:
    """Say again what the session is waiting for; never replayed from the session."""
    mode = turn.mode
    if mode is Mode.ROUND:
        return appreciation.advance(turn)
    if mode is Mode.DEEP:
        return deeper.repeat_question(turn)
    if mode is Mode.FORGET:
        return privacy.ask_forget(turn)
    if mode is Mode.CARE:
        return care.repeat_offer(turn)
    said = turn.session.get("again")
    if mode is None and said in _SAID_AGAIN:
        return _SAID_AGAIN[said](turn)
    card = cards.repeat_card(turn)
    return card or turn.say(f"There's nothing to repeat yet. {TRY}", TRY)


def yes_no(turn: Turn, yes: bool) -> Response:
    mode = turn.mode
    if mode is Mode.FORGET:
        return privacy.confirm_forget(turn, yes)
    if mode is Mode.ROUND:
        return appreciation.answered(turn, yes)
    if mode is Mode.CARE:
        return care.answered(turn, yes)
    if mode is Mode.DEEP:
        return deeper.next_question(turn) if yes else deeper.rest(turn)
    if mode is Mode.CARDS:
        if yes:
            return cards.next_card(turn)
        turn.set_mode(None)
        return turn.say("Okay. Enjoy your conversation.", end=True)
    return turn.say(f"There's no question waiting just now. {TRY}", TRY)


def start_over(turn: Turn) -> Response:
    if turn.mode is Mode.ROUND:
        turn.remember(round_state=None)
        return appreciation.start(turn)
    if turn.mode is Mode.CARDS:
        return cards.deal(turn, cards.ANY, preface="Starting fresh.")
    return launch(turn)


# -- closing and not understanding ------------------------------------------------------------


def stop(turn: Turn) -> Response:
    """Stop or cancel. An unfinished round or deeper conversation stays saved to resume."""
    mode = turn.mode
    turn.set_mode(None)
    if mode is Mode.DEEP or (mode is None and deeper.waiting(turn)):
        return deeper.rest(turn)
    return turn.say("Okay. Take care of each other.", end=True)


def navigate_home(turn: Turn) -> Response:
    turn.set_mode(None)
    return turn.say("Okay.", end=True)


def fallback(turn: Turn) -> Response:
    mode = turn.mode
    if mode is Mode.ROUND:
        return appreciation.not_heard(turn)
    if mode is Mode.FORGET:
        return turn.say("Please say yes to delete everything, or no to keep it.", "Yes or no?")
    if mode is Mode.CARE:
        return care.repeat_offer(turn)
    if mode is Mode.DEEP:
        return turn.say(f"Sorry, I didn't catch that. {deeper.CONTINUE}", deeper.CONTINUE)
    if mode is Mode.CARDS:  # a remark about the question, most likely: keep the table open
        return turn.say(f"Sorry, I didn't catch that. {cards.CONTINUE}", cards.CONTINUE)
    return turn.say(f"Sorry, I didn't catch that. {TRY}", TRY)


def unknown(turn: Turn) -> Response:
    return turn.say(f"I can't do that one. {TRY}", TRY)


def trouble(turn: Turn, store_unreachable: bool) -> Response:
    if store_unreachable:
        return turn.say("Sorry, I can't reach my memory right now. Please try again in a moment.",
                        end=True)
    return turn.say("Sorry, something went wrong on my side. Please try again.", end=True)


# What "repeat" says again when no ritual is under way, by the name the answer gave it.
_SAID_AGAIN = {
    "first_welcome": first_welcome,
    "welcome": welcome_back,
    "help": help_,
    "journal": journal.read_journal,
    "week": week.look_back,
}
