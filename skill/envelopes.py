"""Alexa request envelopes, for every door: what may come in, and how to make one.

The webhook and the Lambda entry check an envelope's application id and label its request
type here; the local speaker builds the envelopes Alexa would send (LaunchRequest,
IntentRequest with every slot of the intent, SessionEndedRequest), with slot types taken
from the interaction model, the one source of truth.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from skill.interaction_model import InteractionModel, default_model

LOCAL_APPLICATION_ID = "amzn1.ask.skill.closer-together-local-speaker"
LOCAL_DEVICE_ID = "amzn1.ask.device.closer-together-local-speaker"
LOCALE = "en-US"

# Request types Alexa sends a custom skill; anything else is labelled "other".
REQUEST_TYPES = frozenset({
    "LaunchRequest", "IntentRequest", "SessionEndedRequest", "CanFulfillIntentRequest",
    "System.ExceptionEncountered", "AlexaSkillEvent.SkillEnabled",
    "AlexaSkillEvent.SkillDisabled", "AlexaSkillEvent.SkillPermissionAccepted",
    "AlexaSkillEvent.SkillPermissionChanged", "AlexaSkillEvent.SkillAccountLinked",
    "Connections.Response",
})


class Rejection(StrEnum):
    """Why a request was refused, as a class: the metrics label and the HTTP status."""

    TOO_LARGE = "too_large"
    MALFORMED = "malformed"
    SIGNATURE = "signature"
    TIMESTAMP = "timestamp"
    APPLICATION_ID = "application_id"
    PROXIED = "proxied"

    @property
    def status(self) -> int:
        return {Rejection.TOO_LARGE: 413, Rejection.PROXIED: 403}.get(self, 400)


class VerificationError(Exception):
    """A request was refused. ``reason`` is short, fixed text, safe to log; ``kind`` is its
    class (signature problems unless said otherwise)."""

    def __init__(self, reason: str, kind: Rejection = Rejection.SIGNATURE) -> None:
        super().__init__(reason)
        self.reason, self.kind = reason, kind


def request_type_label(envelope: object) -> str:
    """The request's type for logs and metrics, from a fixed set (never caller-made text)."""
    request = envelope.get("request") if isinstance(envelope, dict) else None
    kind = request.get("type") if isinstance(request, dict) else None
    return kind if kind in REQUEST_TYPES else "other"


def check_application_id(envelope: dict, allowed: Collection[str]) -> None:
    """Refuse an envelope whose application id is not in ``allowed`` (empty: accept all)."""
    if not allowed:
        return
    app_id = _dig(envelope, "context", "System", "application", "applicationId")
    if not isinstance(app_id, str) or not app_id:
        app_id = _dig(envelope, "session", "application", "applicationId")
    if not isinstance(app_id, str) or not app_id:
        raise VerificationError("missing application id", Rejection.APPLICATION_ID)
    if app_id not in allowed:
        raise VerificationError("unknown application id", Rejection.APPLICATION_ID)


def _dig(obj: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# -- building requests, as Alexa would send them -------------------------------------------


class SlotLike(Protocol):
    """A heard slot value (speech.grammar.SlotValue has this shape)."""

    spoken: str
    value: str
    resolved_id: str | None


@dataclass
class Session:
    """One Alexa session: its id, whether the next request is its first, its attributes."""

    household_id: str
    app_id: str = LOCAL_APPLICATION_ID
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
    model: InteractionModel | None = None,
) -> dict:
    """An IntentRequest carrying every slot the intent defines (unfilled ones without value)."""
    model = model or default_model()
    types = model.slot_types(intent)
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


def _slot(session: Session, name: str, kind: str, heard: SlotLike | None,
          model: InteractionModel) -> dict:
    slot: dict = {"name": name, "confirmationStatus": "NONE"}
    if heard is None:
        return slot
    # Alexa reports custom values as heard (resolution says which value they mean) and
    # built-in values normalized: AMAZON.DURATION as ISO-8601, a first name, the free text.
    custom = model.is_custom(kind)
    value = heard.spoken if custom else heard.value
    slot.update(value=value, source="USER", slotValue={"type": "Simple", "value": value})
    if custom:
        slot["resolutions"] = _resolutions(session, kind, heard.resolved_id, model)
    return slot


def _resolutions(session: Session, kind: str, resolved_id: str | None,
                 model: InteractionModel) -> dict:
    authority = f"amzn1.er-authority.echo-sdk.{session.app_id}.{kind}"
    name = model.types[kind].values.get(resolved_id or "")
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
