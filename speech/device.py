"""The local speaker: a small "virtual Alexa device".

It turns what it heard into the RequestEnvelope Alexa would send (skill.envelopes),
sends it through a door to the skill (in process, or a webhook with ``--endpoint URL``),
keeps the session attributes between turns, opens a new session after ``shouldEndSession``,
speaks the reprompt once when nobody answers and then ends the session with a
SessionEndedRequest, and after a ``Dialog.ElicitSlot`` makes the next turn a free-text turn,
as Alexa's dialog management does. Nothing in ``skill/`` knows which door a request came
through.

``closer chat`` drives it with typed text, ``closer speaker`` with a microphone or WAV files
(closer/local.py puts the parts together).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

from skill.envelopes import (
    LOCAL_APPLICATION_ID,
    Session,
    intent_request,
    launch_request,
    session_ended_request,
)
from skill.interaction_model import InteractionModel, default_model

FALLBACK = "AMAZON.FallbackIntent"
LAUNCH = "LaunchRequest"  # what the grammar calls opening the skill by name


class SkillDoor(Protocol):
    """How a request reaches the skill: one envelope in, its response envelope out; raises
    DoorError when the skill cannot be reached or does not answer with a response."""

    def __call__(self, envelope: dict) -> dict: ...


class DoorError(RuntimeError):
    """The skill could not be reached or did not answer with a response."""


# -- a webhook as the door (the skill in process is closer/local.py's door) ---------------


class Webhook:
    """A webhook such as ``closer serve --no-verify`` on loopback: POST the JSON, read JSON."""

    def __init__(self, url: str, timeout_s: float = 15.0) -> None:
        self.url, self.timeout_s = url, timeout_s

    def __call__(self, envelope: dict) -> dict:
        request = urllib.request.Request(
            self.url, data=json.dumps(envelope).encode("utf-8"),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                response = json.load(answer)
        except urllib.error.HTTPError as error:
            reason = _error_reason(error)
            raise DoorError(f"the webhook at {self.url} answered HTTP {error.code}"
                            + (f": {reason}" if reason else "")) from error
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DoorError(f"cannot reach the webhook at {self.url}: {reason}") from error
        except ValueError as error:
            raise DoorError(f"the webhook at {self.url} did not answer with JSON") from error
        if not isinstance(response, dict):
            raise DoorError(f"the webhook at {self.url} did not answer with a response")
        return response


def _error_reason(error: urllib.error.HTTPError) -> str | None:
    """The webhook's own short reason ({"error": "..."}), if it gave one."""
    try:
        body = json.loads(error.read(4096) or b"null")
    except (OSError, ValueError):
        return None
    reason = body.get("error") if isinstance(body, dict) else None
    return reason[:80] if isinstance(reason, str) else None


# -- the device ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What one turn did: the request sent (or "reprompt"), and what the speaker says."""

    request: str  # "LaunchRequest", an intent name, "reprompt", "SessionEndedRequest", "none"
    ssml: str = ""  # "" when the speaker says nothing
    ends_session: bool = False
    slots: dict[str, str] = field(default_factory=dict)  # slot name -> resolved value


class Device:
    """One speaker's conversation with the skill through a door; one thread at a time."""

    def __init__(self, door: SkillDoor, household_id: str, grammar: Any = None, *,
                 app_id: str = LOCAL_APPLICATION_ID,
                 model: InteractionModel | None = None) -> None:
        self.door, self.household_id, self.grammar = door, household_id, grammar
        self.app_id = app_id
        self.model = model or default_model()
        self.session: Session | None = None
        self.expecting: str | None = None  # "Intent.slot" after Dialog.ElicitSlot
        self._reprompt: str | None = None

    @property
    def in_session(self) -> bool:
        return self.session is not None

    @property
    def free_text(self) -> bool:
        """The next turn fills an elicited free-text slot (AMAZON.SearchQuery): the
        recognizer opens up. An elicited name is still heard as a command (the grammar
        knows the names), and the reply is read as an answer to that question."""
        if self.expecting is None:
            return False
        intent, _, slot = self.expecting.partition(".")
        return self.model.slot_types(intent).get(slot) == "AMAZON.SearchQuery"

    def launch(self) -> Reply:
        if self.session is not None:
            self.end()
        session = self._open()
        return self._send(launch_request(session), "LaunchRequest")

    def hear(self, text: str, *, rejected: bool = False) -> Reply:
        """One user turn as text (what a recognizer heard, or what was typed)."""
        heard = text.strip()
        parse = None if rejected or not heard else self.grammar.parse(
            heard, expecting=self.expecting)
        if parse is not None and parse.intent == LAUNCH:  # "open closer together"
            return self.launch()
        return self.intent(parse)

    def intent(self, parse: Any) -> Reply:
        """Send what was understood (None: not understood, Alexa's FallbackIntent)."""
        session = self._open()
        name = parse.intent if parse is not None else FALLBACK
        slots = dict(parse.slots) if parse is not None else {}
        elicited = self.expecting.split(".")[0] if self.expecting else None
        state = "IN_PROGRESS" if name == elicited else None
        envelope = intent_request(session, name, slots, dialog_state=state, model=self.model)
        values = {slot: value.value for slot, value in slots.items()}
        return self._send(envelope, name, values)

    def silence(self) -> Reply:
        """Nobody answered: the reprompt once, then the session ends (as on Alexa)."""
        if self.session is None:
            return Reply("none", ends_session=True)
        if self._reprompt:
            reprompt, self._reprompt = self._reprompt, None
            return Reply("reprompt", reprompt)
        self.end("EXCEEDED_MAX_REPROMPTS")
        return Reply("SessionEndedRequest", ends_session=True)

    def end(self, reason: str = "USER_INITIATED") -> None:
        """Close an open session, telling the skill (SessionEndedRequest)."""
        if self.session is None:
            return
        envelope = session_ended_request(self.session, reason)
        self._close()
        with suppress(DoorError):  # the session is over either way
            self.door(envelope)

    def _open(self) -> Session:
        if self.session is None:
            self.session = Session(self.household_id, app_id=self.app_id)
        return self.session

    def _close(self) -> None:
        self.session, self.expecting, self._reprompt = None, None, None

    def _send(self, envelope: dict, label: str, slots: dict[str, str] | None = None) -> Reply:
        try:
            response = self.door(envelope)
        except DoorError:
            self._close()
            raise
        return self._receive(response, label, slots or {})

    def _receive(self, response: dict, label: str, slots: dict[str, str]) -> Reply:
        body = response.get("response") or {}
        assert self.session is not None
        self.session.attributes = response.get("sessionAttributes") or {}
        ssml = _ssml(body.get("outputSpeech"))
        self._reprompt = _ssml((body.get("reprompt") or {}).get("outputSpeech")) or None
        self.expecting = _elicited(body.get("directives") or [])
        ends = body.get("shouldEndSession")
        if ends is None:
            ends = not (self._reprompt or self.expecting)
        if ends:
            self._close()
        return Reply(label, ssml, bool(ends), slots)


def _ssml(speech: dict | None) -> str:
    if not speech:
        return ""
    if speech.get("type") == "PlainText":
        from xml.sax.saxutils import escape

        return f"<speak>{escape(speech.get('text') or '')}</speak>"
    return speech.get("ssml") or ""


def _elicited(directives: list[dict]) -> str | None:
    for directive in directives:
        if directive.get("type") == "Dialog.ElicitSlot":
            intent = (directive.get("updatedIntent") or {}).get("name")
            slot = directive.get("slotToElicit")
            if intent and slot:
                return f"{intent}.{slot}"
    return None
