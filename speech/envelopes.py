"""Alexa RequestEnvelope JSON for the local speaker, shaped exactly as Alexa sends it.

LaunchRequest, IntentRequest (every slot of the intent, filled ones with ``slotValue`` and,
for custom slot types, entity-resolution ``resolutions``) and SessionEndedRequest. Which
slot has which type comes from the interaction model, the one source of truth.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol

MODEL_PATH = Path(__file__).resolve().parent.parent / "interaction_models" / "en-US.json"
LOCAL_APPLICATION_ID = "amzn1.ask.skill.closer-together-local-speaker"
LOCAL_DEVICE_ID = "amzn1.ask.device.closer-together-local-speaker"
LOCALE = "en-US"


class SlotLike(Protocol):
    """What the grammar's SlotValue carries (speech.grammar.SlotValue)."""

    spoken: str
    value: str
    resolved_id: str | None


@dataclass(frozen=True)
class Model:
    """The interaction model's slots: intent -> slot -> type, and custom values by id."""

    slot_types: Mapping[str, Mapping[str, str]]
    value_names: Mapping[str, Mapping[str, str]]  # custom type -> value id -> canonical name

    def is_custom(self, slot_type: str) -> bool:
        return slot_type in self.value_names


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> Model:
    language = json.loads(path.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]
    slot_types = {
        intent["name"]: {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for intent in language["intents"]
    }
    names = {
        kind["name"]: {
            value.get("id") or value["name"]["value"]: value["name"]["value"]
            for value in kind["values"]
        }
        for kind in language.get("types", [])
    }
    return Model(slot_types, names)


def application_id() -> str:
    """The skill id the local speaker sends: the first allowed id if CLOSER_SKILL_IDS is set
    (so a webhook that checks ids accepts it), else a fixed local one."""
    ids = [i.strip() for i in os.environ.get("CLOSER_SKILL_IDS", "").split(",") if i.strip()]
    return ids[0] if ids else LOCAL_APPLICATION_ID


@dataclass
class Session:
    """One Alexa session: its id, whether the next request is its first, its attributes."""

    household_id: str
    app_id: str = field(default_factory=application_id)
    session_id: str = field(default_factory=lambda: f"amzn1.echo-api.session.{uuid.uuid4()}")
    new: bool = True
    attributes: dict = field(default_factory=dict)


def launch_request(session: Session) -> dict:
    return _envelope(session, {"type": "LaunchRequest"})


def intent_request(
    session: Session,
    intent: str,
    slots: Mapping[str, SlotLike] | None = None,
    *,
    dialog_state: str | None = None,
    model: Model | None = None,
) -> dict:
    """An IntentRequest carrying every slot the intent defines (unfilled ones without value)."""
    model = model or load_model()
    types = model.slot_types.get(intent, {})
    filled = dict(slots or {})
    unknown = set(filled) - set(types)
    if unknown:
        raise ValueError(f"{intent} has no slot {', '.join(sorted(unknown))}")
    request: dict = {"type": "IntentRequest"}
    if dialog_state:
        request["dialogState"] = dialog_state
    request["intent"] = {
        "name": intent,
        "confirmationStatus": "NONE",
        "slots": {
            name: _slot(session, name, kind, filled.get(name), model)
            for name, kind in types.items()
        },
    }
    return _envelope(session, request)


def session_ended_request(session: Session, reason: str = "USER_INITIATED") -> dict:
    """Alexa's notice that the session is over: USER_INITIATED, EXCEEDED_MAX_REPROMPTS, ERROR."""
    return _envelope(session, {"type": "SessionEndedRequest", "reason": reason})


def _slot(session: Session, name: str, kind: str, heard: SlotLike | None, model: Model) -> dict:
    slot: dict = {"name": name, "confirmationStatus": "NONE"}
    if heard is None:
        return slot
    # Alexa reports custom values as heard (resolution says which value they mean) and
    # built-in values normalized: AMAZON.DURATION as ISO-8601, a first name, the free text.
    value = heard.spoken if model.is_custom(kind) else heard.value
    slot.update(value=value, source="USER", slotValue={"type": "Simple", "value": value})
    if model.is_custom(kind):
        slot["resolutions"] = _resolutions(session, kind, heard.resolved_id, model)
    return slot


def _resolutions(session: Session, kind: str, resolved_id: str | None, model: Model) -> dict:
    authority = f"amzn1.er-authority.echo-sdk.{session.app_id}.{kind}"
    name = model.value_names[kind].get(resolved_id or "")
    if resolved_id is None or name is None:
        return {"resolutionsPerAuthority": [
            {"authority": authority, "status": {"code": "ER_SUCCESS_NO_MATCH"}}]}
    return {"resolutionsPerAuthority": [{
        "authority": authority,
        "status": {"code": "ER_SUCCESS_MATCH"},
        "values": [{"value": {"name": name, "id": resolved_id}}],
    }]}


def _envelope(session: Session, request: dict) -> dict:
    request = {
        "type": request["type"],
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "locale": LOCALE,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **{k: v for k, v in request.items() if k != "type"},
    }
    user = {"userId": session.household_id}
    application = {"applicationId": session.app_id}
    envelope = {
        "version": "1.0",
        "session": {
            "new": session.new,
            "sessionId": session.session_id,
            "application": application,
            "user": user,
            "attributes": dict(session.attributes),
        },
        "context": {"System": {
            "application": application,
            "user": user,
            "device": {"deviceId": LOCAL_DEVICE_ID, "supportedInterfaces": {}},
            "apiEndpoint": "https://api.amazonalexa.com",
        }},
        "request": request,
    }
    session.new = False
    return envelope
