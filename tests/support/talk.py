"""A household talking to the skill in process, as `closer chat` does: typed words -> the
local speaker's grammar -> the request Alexa would send -> the skill -> what it says, as the
text `closer chat` prints. No process and no socket: the in-process tier's main tool."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from closer.local import InProcess
from skill.app import build_skill
from skill.store import Store
from skill.zones import TimeZones
from speech.device import Device, Reply
from speech.grammar import default_grammar
from speech.tts import readable


class Talk:
    """One speaker in a household; ``talk("give us a question", "next")`` returns what the
    speaker said to each line."""

    def __init__(self, store: Store, household: str = "local.test-household", *,
                 clock: Callable[[], datetime] | None = None,
                 zones: TimeZones | None = None) -> None:
        self.store = store
        self.skill = build_skill(store, clock=clock, zones=zones)
        self.device = Device(InProcess(self.skill), household, default_grammar())
        self.replies: list[Reply] = []

    @property
    def household(self) -> str:
        return self.device.household_id

    def __call__(self, *lines: str) -> list[str]:
        return [self.one(line) for line in lines]

    def one(self, line: str) -> str:
        reply = self.device.hear(line)
        self.replies.append(reply)
        return readable(reply.ssml) if reply.ssml else "(says nothing)"

    def deep_question(self) -> str:
        """The deeper conversation's current question id (kept in the store)."""
        state = self.store.load(self.household).deep_state or {}
        return state["current"]

    def last_intent(self) -> str:
        return self.replies[-1].request

    def silence(self) -> str:
        """Nobody answered: the reprompt, then the session ends."""
        reply = self.device.silence()
        self.replies.append(reply)
        return readable(reply.ssml) if reply.ssml else "(says nothing)"

    def end(self) -> None:
        self.device.end()
