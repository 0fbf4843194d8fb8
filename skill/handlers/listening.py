"""Listening practice: one partner talks about what's on their mind while the other only
listens; the listener says back what they heard and how it might feel; then they swap.

Paced inside one response, as Alexa keeps no session open through minutes of talk: timed
pauses (chained 10 s breaks), a chime when a talking turn ends (three chimes in all, under
Alexa's five sounds), and a closing appreciation of the listening.
"""

from __future__ import annotations

from ask_sdk_model import Response

from skill import screens, ssml
from skill.durations import asked_seconds, spoken
from skill.turn import Turn

DEFAULT_MINUTES, MIN_MINUTES, MAX_MINUTES = 2, 1, 5
REFLECT_S = {1: 40, 2: 45, 3: 60, 4: 60, 5: 60}  # saying back takes less than talking
THANKS_S = 15


def practice(turn: Turn) -> Response:
    minutes, correction = _minutes(turn)
    if minutes is None:
        return turn.say(correction, "How long should each of you talk, one to five minutes?")
    turn.set_mode(None)
    turn.store.record_ritual(turn.household_id, "listening", turn.now, minutes * 60)
    screens.show_ritual(turn, "Listening practice", screens.listening_lines(minutes))
    first, second = turn.spoken_names or (None, None)
    parts = [
        "Listening practice. One of you talks about something on your mind. The other just "
        "listens, without fixing or interrupting. Then the listener says back what they "
        "heard, and how it might feel. Then you swap.",
        _talk(first, second, minutes, opening=True),
        _reflect(second, minutes),
        _talk(second, first, minutes, opening=False),
        _reflect(first, minutes),
        "Thank you both. Before you go, tell each other one thing the other did as a "
        f"listener that you appreciated. {ssml.pause(THANKS_S)} Take care of each other.",
    ]
    return turn.say(" ".join(parts), end=True)


def _minutes(turn: Turn) -> tuple[int | None, str | None]:
    asked = asked_seconds(turn.slot_value("duration"), DEFAULT_MINUTES * 60, MIN_MINUTES * 60 - 29,
                          MAX_MINUTES * 60 + 29)
    if asked == "unheard":
        return None, "I didn't catch how long. Try, practice listening for two minutes."
    if isinstance(asked, str):
        return None, ("Each turn can be one to five minutes. Try, practice listening for three "
                      "minutes.")
    return round(asked / 60), None


def _talk(talker: str | None, listener: str | None, minutes: int, *, opening: bool) -> str:
    length = spoken(minutes * 60)
    if talker and listener:
        who = (f"{talker}, you talk first, for {length}. {listener}, you listen." if opening
               else f"Now swap. {talker}, your turn to talk, for {length}. {listener}, you "
                    "listen.")
    else:
        who = (f"Whoever would like to talk first, go ahead, for {length}. The other one "
               "listens." if opening else
               f"Now swap. Whoever listened, it's your turn to talk, for {length}.")
    hold = minutes * 60 + 2  # and a breath to begin
    if minutes >= 3:  # a gentle word when a long turn is nearly over
        silence = f"{ssml.pause(hold - 60)} About a minute left. {ssml.pause(57)}"
    else:
        silence = ssml.pause(hold)
    return f"{who} Begin whenever you're ready. {silence}{ssml.chime()}"


def _reflect(listener: str | None, minutes: int) -> str:
    who = f"Thank you. {listener}," if listener else "Thank you. Listener,"
    return (f"{who} say back what you heard, starting with, what I heard is. Then guess "
            f"how it might feel. {ssml.pause(REFLECT_S[minutes])}")
