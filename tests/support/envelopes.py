"""Alexa request envelopes shaped exactly as Alexa sends them (see the recorded fixtures)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

SKILL_ID = "amzn1.ask.skill.7d3c1b2e-closer-together-test"
USER = "amzn1.ask.account.AHOUSEHOLDTEST"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot(name: str, value: str | None = None, resolved_id: str | None = None) -> dict:
    out: dict = {"name": name, "confirmationStatus": "NONE"}
    if value is not None:
        out["value"] = value
        out["source"] = "USER"
    if resolved_id is not None:
        out["resolutions"] = {"resolutionsPerAuthority": [{
            "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.CardCategory",
            "status": {"code": "ER_SUCCESS_MATCH"},
            "values": [{"value": {"name": resolved_id, "id": resolved_id}}],
        }]}
    return out


def envelope(
    request_type: str = "IntentRequest",
    intent: str | None = None,
    slots: dict | None = None,
    *,
    user: str = USER,
    attributes: dict | None = None,
    new: bool = False,
    session_id: str | None = None,
    timestamp: str | None = None,
    app_id: str = SKILL_ID,
    dialog_state: str | None = None,
) -> dict:
    request: dict = {
        "type": request_type,
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "timestamp": timestamp or _now(),
        "locale": "en-US",
    }
    if intent:
        request["intent"] = {"name": intent, "confirmationStatus": "NONE",
                             "slots": slots or {}}
        if dialog_state:
            request["dialogState"] = dialog_state
    if request_type == "SessionEndedRequest":
        request["reason"] = "USER_INITIATED"
    system = {
        "application": {"applicationId": app_id},
        "user": {"userId": user},
        "device": {"deviceId": "amzn1.ask.device.TEST", "supportedInterfaces": {}},
        "apiEndpoint": "https://api.amazonalexa.com",
    }
    out: dict = {"version": "1.0", "context": {"System": system}, "request": request}
    if not request_type.startswith("AlexaSkillEvent."):
        out["session"] = {
            "new": new,
            "sessionId": session_id or f"amzn1.echo-api.session.{uuid.uuid4()}",
            "application": {"applicationId": app_id},
            "user": {"userId": user},
            "attributes": attributes or {},
        }
    else:
        request["eventCreationTime"] = request["timestamp"]
        request["eventPublishingTime"] = request["timestamp"]
        out["request"].pop("locale", None)
    return out
