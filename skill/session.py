"""Session attributes the skill can trust.

Alexa hands the attributes of the last answer back with the next request, so anyone who can
send a request could send any attributes: "forget_confirm" to make a bare Yes delete a
household, a journal opt-in nobody gave. So every answer's attributes are signed here
(HMAC-SHA256 under a server key) and a request's attributes are kept only if the signature
matches and each one has the type it should; otherwise the session starts clean (a Yes then
confirms nothing) and one line is logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets

log = logging.getLogger("closer.session")

SIGNATURE = "sig"
# Every attribute the skill keeps, and its type. Anything else is dropped.
TYPES: dict[str, type | tuple[type, ...]] = {
    "mode": str,
    "step": str,
    "category": str,
    "depth": str,
    "card_id": str,
    "again": str,
    "offer": str,
    "counselor": bool,
    "tries": int,
    "skill_version": int,
}
_MAX_TEXT = 64  # every attribute is a short id, never something a couple said


class SessionSigner:
    def __init__(self, key: bytes | None = None) -> None:
        """``key``: the server's secret (one for all workers and hosts serving the skill);
        without one, a random key good for this process only."""
        self._key = key or secrets.token_bytes(32)

    def sign(self, attributes: dict) -> dict:
        body = {k: v for k, v in attributes.items() if k != SIGNATURE}
        if not body:
            return {}
        return {**body, SIGNATURE: self._mac(body)}

    def verified(self, attributes: object) -> dict:
        """The attributes if they carry our signature and every value has its type; else {}."""
        if not isinstance(attributes, dict) or not attributes:
            return {}
        body = {k: v for k, v in attributes.items() if k != SIGNATURE}
        offered = attributes.get(SIGNATURE)
        if not isinstance(offered, str) or not hmac.compare_digest(offered, self._mac(body)):
            log.warning("session attributes refused", extra={"reason": "signature"})
            return {}
        if not all(_well_typed(k, v) for k, v in body.items()):
            log.warning("session attributes refused", extra={"reason": "type"})
            return {}
        return body

    def _mac(self, body: dict) -> str:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        digest = hmac.new(self._key, canonical.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()


def _well_typed(key: str, value: object) -> bool:
    expected = TYPES.get(key)
    if expected is None or isinstance(value, bool) and expected is not bool:
        return False
    if not isinstance(value, expected):
        return False
    return not isinstance(value, str) or len(value) <= _MAX_TEXT


def derive_key(secret: bytes, purpose: bytes = b"closer-together session attributes") -> bytes:
    """A key for one purpose from the server's data key (HMAC as a one-step KDF)."""
    return hmac.new(secret, purpose, hashlib.sha256).digest()
