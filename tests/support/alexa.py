"""A test stand-in for the Alexa cloud: signs requests like Alexa, posts them over real
HTTP, carries session attributes between turns, and checks every answer against Alexa's
limits. Amazon's servers cannot exist here; everything else is real."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import ResponseEnvelope

from tests.support.certs import sign
from tests.support.envelopes import USER, envelope

CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
MAX_SPEECH_CHARS = 8000
MAX_RESPONSE_BYTES = 24 * 1024
MAX_AUDIO_TAGS = 5
_BREAK = re.compile(r'<break time="(\d+(?:\.\d+)?)(ms|s)"\s*/>')


def check_alexa_limits(answer: dict) -> None:
    """Fail if a response breaks one of Alexa's documented output limits."""
    raw = json.dumps(answer).encode()
    assert len(raw) <= MAX_RESPONSE_BYTES, f"response is {len(raw)} bytes"
    DefaultSerializer().deserialize(json.dumps(answer), ResponseEnvelope)
    response = answer.get("response", {})
    for key in ("outputSpeech", "reprompt"):
        speech = response.get(key, {})
        speech = speech.get("outputSpeech", speech) if key == "reprompt" else speech
        ssml = speech.get("ssml", "")
        if not ssml:
            continue
        assert ssml.startswith("<speak>") and ssml.endswith("</speak>")
        assert len(ssml) <= MAX_SPEECH_CHARS, f"{key} is {len(ssml)} characters"
        for amount, unit in _BREAK.findall(ssml):
            seconds = float(amount) / (1000 if unit == "ms" else 1)
            assert seconds <= 10, f"a <break> of {seconds} s"
        assert ssml.count("<audio") <= MAX_AUDIO_TAGS


def speech_text(answer: dict) -> str:
    """What the speaker would say, without tags, for assertions."""
    ssml = answer.get("response", {}).get("outputSpeech", {}).get("ssml", "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", ssml)).strip()


def total_pause_s(answer: dict) -> float:
    ssml = answer.get("response", {}).get("outputSpeech", {}).get("ssml", "")
    return sum(float(a) / (1000 if u == "ms" else 1) for a, u in _BREAK.findall(ssml))


class AlexaCloud:
    """Plays Alexa's part for one household talking to the webhook at ``url``."""

    def __init__(self, url: str, key, user: str = USER) -> None:
        self.url, self.key, self.user = url, key, user
        self.attributes: dict = {}
        self.session_id: str | None = None
        self.last: dict = {}

    def post_raw(self, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
        headers = headers if headers is not None else self.signed_headers(body)
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                return error.code, json.loads(payload)
            except json.JSONDecodeError:
                return error.code, {"raw": payload.decode(errors="replace")}

    def signed_headers(self, body: bytes) -> dict:
        return {"SignatureCertChainUrl": CERT_URL, "Signature-256": sign(body, self.key)}

    def send(self, request: dict) -> dict:
        """Post one envelope; keep the session going the way Alexa does."""
        status, answer = self.post_raw(json.dumps(request).encode())
        assert status == 200, (status, answer)
        check_alexa_limits(answer)
        self.last = answer
        ends = answer.get("response", {}).get("shouldEndSession", True)
        if ends is None or ends:
            self.attributes, self.session_id = {}, None
        else:
            self.attributes = answer.get("sessionAttributes") or {}
        return answer

    def _envelope(self, request_type: str, intent: str | None = None, slots: dict | None = None,
                  **extra) -> dict:
        new = self.session_id is None
        if new:
            self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
        return envelope(request_type, intent, slots, user=self.user, attributes=self.attributes,
                        new=new, session_id=self.session_id, **extra)

    def launch(self) -> dict:
        return self.send(self._envelope("LaunchRequest"))

    def say(self, intent: str, **slot_values) -> dict:
        from tests.support.envelopes import slot

        slots = {}
        for name, value in slot_values.items():
            if isinstance(value, tuple):  # (spoken value, entity-resolution id)
                slots[name] = slot(name, value[0], value[1])
            else:
                slots[name] = slot(name, value)
        return self.send(self._envelope("IntentRequest", intent, slots))

    def drop_session(self) -> dict:
        """The couple walked away: Alexa ends the session."""
        answer = self.send(self._envelope("SessionEndedRequest"))
        self.attributes, self.session_id = {}, None
        return answer
