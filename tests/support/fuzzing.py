"""Hostile Alexa requests at volume: hypothesis strategies and a pass against a live webhook.

Each example is a *plan*: a body (a mutated real envelope, or raw bytes such as deep
nesting, garbage, non-objects, oversized bodies) and how to present it (Alexa's correct
headers, or a missing/forged/mangled signature or certificate URL, a wrong application id,
a stale or future timestamp). Signing happens at send time, so timestamps stay fresh.

What must hold for every example (``fuzz_pass``):
- never a 5xx, and the server still answers /healthz afterwards;
- a request that is not properly signed, fresh and addressed to our skill is rejected;
- a rejected request changes nothing in the database (the caller's digest is unchanged);
- an accepted request gets a well-formed skill response.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.certs import sign, sign_sha1
from tests.support.envelopes import envelope, slot
from tests.support.live_server import LivePKI, LiveServer

NOW = "__NOW__"  # replaced by the current time when the example is sent
USERS = [f"amzn1.ask.account.FUZZ{i}" for i in range(3)]
MAX_BODY = 128 * 1024


def _base_envelopes() -> list[dict]:
    """Real requests of every kind the skill handles, as Alexa shapes them."""
    round_at = {"mode": "round", "round_step": "first",
                "expecting": "ShareAppreciationIntent.appreciation"}
    make: list[tuple[tuple, dict]] = [
        (("LaunchRequest",), {"new": True}),
        (("IntentRequest", "SetNamesIntent", {"firstName": slot("firstName", "sam"),
                                              "secondName": slot("secondName", "alex")}), {}),
        (("IntentRequest", "QuestionIntent",
          {"category": slot("category", "silly", resolved_id="fun")}), {}),
        (("IntentRequest", "AMAZON.NextIntent"), {"attributes": {"mode": "cards",
                                                                 "category": "deep"}}),
        (("IntentRequest", "HugIntent", {"duration": slot("duration", "PT30S")}), {}),
        (("IntentRequest", "AppreciationRoundIntent"), {}),
        (("IntentRequest", "AMAZON.YesIntent"), {"attributes": {"mode": "round",
                                                                "round_step": "optin"}}),
        (("IntentRequest", "ShareAppreciationIntent",
          {"appreciation": slot("appreciation", "you made me laugh")}), {"attributes": round_at}),
        (("IntentRequest", "JournalIntent"), {}),
        (("IntentRequest", "CheckInIntent"), {}),
        (("IntentRequest", "ForgetUsIntent"), {}),
        (("IntentRequest", "AMAZON.YesIntent"), {"attributes": {"mode": "forget_confirm"}}),
        (("SessionEndedRequest",), {}),
        (("AlexaSkillEvent.SkillDisabled",), {}),
    ]
    out = []
    for args, kwargs in make:
        env = envelope(*args, timestamp=NOW, **kwargs)
        out.append(env)
    return out


BASES = _base_envelopes()

_specials = st.sampled_from([
    "", " ", "\x00", "\u202e\u202d", "\ufeff", "🏳️‍🌈" * 20, "<speak>hi</speak>", "&amp;<>\"'",
    "]]>", "' OR 1=1 --", "${jndi:ldap://x}", "%s%n%x", "\\", "\r\n\r\n", "null", "NaN",
    "9" * 400, "amzn1.ask.skill.", "PT99999999999H", "P1Y", "-PT5S", "fun", "FUN ",
])
_strings = st.one_of(
    st.text(max_size=40),
    _specials,
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
            max_size=3),  # lone surrogates: valid JSON escapes, not encodable as UTF-8
    st.builds(lambda ch, n: ch * n, st.sampled_from(["x", "é", "😀", "\u0301"]),
              st.integers(1_000, 30_000)),
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                     st.floats(allow_nan=True, allow_infinity=True), _strings)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_strings, inner, max_size=3),
    max_leaves=8,
)


def _paths(obj: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _mutate(obj: Any, path: tuple, op: str, value: Any) -> None:
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif op == "wrap":
        parent[last] = [parent[last]]
    elif op == "add" and isinstance(parent[last], dict):
        parent[last][str(value)[:20]] = value
    else:
        parent[last] = value


@st.composite
def _mutated_envelope(draw: st.DrawFn) -> bytes | dict:
    env = json.loads(json.dumps(draw(st.sampled_from(BASES))))
    env["context"]["System"]["user"]["userId"] = draw(st.sampled_from(USERS))
    if "session" in env:
        env["session"]["user"]["userId"] = env["context"]["System"]["user"]["userId"]
    for _ in range(draw(st.integers(0, 4))):
        paths = list(_paths(env))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["delete", "replace", "replace", "wrap", "add"]))
        _mutate(env, path, op, draw(_json))
    return env


def _nest(depth: int, opener: str, closer: str, core: str = "1") -> str:
    return opener * depth + core + closer * depth


@st.composite
def _raw_body(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "deep", "deep-attributes", "not-object", "oversized",
                                 "bom", "utf16", "truncated", "duplicate-keys", "huge-number"]))
    base = json.dumps(draw(st.sampled_from(BASES)))
    depth = draw(st.sampled_from([100, 500, 900, 1000, 2000, 20_000, 60_000]))
    if kind == "bytes":
        return draw(st.binary(max_size=2_000))
    if kind == "deep":
        if draw(st.booleans()):
            return _nest(depth, '{"a":', "}").encode()
        return _nest(depth, "[", "]").encode()
    if kind == "deep-attributes":
        nested = _nest(depth, '{"a":', "}")
        return base.replace('"attributes": {}', f'"attributes": {nested}').encode()
    if kind == "not-object":
        return draw(st.sampled_from([b"[]", b'"request"', b"123", b"null", b"true", b""]))
    if kind == "oversized":
        return base[:-1].encode() + b', "pad": "' + b"x" * (MAX_BODY + 10) + b'"}'
    if kind == "bom":
        return b"\xef\xbb\xbf" + base.encode()
    if kind == "utf16":
        return base.encode("utf-16")
    if kind == "truncated":
        return base.encode()[: draw(st.integers(0, len(base) - 1))]
    if kind == "duplicate-keys":
        return ('{"request": {"type": 1}, ' + base[1:]).encode()
    return base.replace('"version": "1.0"', '"version": 1e999999').encode()


@dataclass(frozen=True)
class Plan:
    body: dict | bytes  # an envelope (NOW stamped in at send time) or raw bytes
    headers: str  # how the request is presented; "alexa" is exactly as Alexa signs it
    app_id: str  # "ours" | "other" | "missing"
    clock: str  # "fresh" | "stale" | "future"
    header_value: str = ""

    @property
    def may_be_accepted(self) -> bool:
        ours = self.app_id == "ours" or isinstance(self.body, bytes)  # raw bodies keep ours
        return self.headers in ("alexa", "alexa-lowercase") and ours and self.clock == "fresh"


_bad_urls = st.sampled_from([
    "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
    "https://s3.amazonaws.com:8443/echo.api/echo-api-cert.pem",
    "https://s3.amazonaws.com/echo.api/../evil/cert.pem",
    "https://s3.amazonaws.com/EcHo.aPi/cert.pem",
    "https://s3.amazonaws.com.evil.example/echo.api/cert.pem",
    "https://user:pw@s3.amazonaws.com/echo.api/cert.pem",
    "https://evil.example/echo.api/cert.pem",
    "https://[::1/echo.api/", "", "s3.amazonaws.com/echo.api/", "https://", "\u00e9" * 50,
])

plans = st.builds(
    Plan,
    body=st.one_of(_mutated_envelope(), _mutated_envelope(), _raw_body()),
    headers=st.sampled_from(["alexa", "alexa", "alexa", "alexa-lowercase", "none", "no-url",
                             "no-signature", "bad-url", "garbage-signature",
                             "signature-of-other-body", "sha1-only", "huge-header",
                             "not-base64"]),
    app_id=st.sampled_from(["ours", "ours", "ours", "other", "missing"]),
    clock=st.sampled_from(["fresh", "fresh", "fresh", "stale", "future"]),
    header_value=st.one_of(_bad_urls, st.text(max_size=60)),
)


def _stamp(obj: Any, now: str) -> Any:
    if obj == NOW:
        return now
    if isinstance(obj, dict):
        return {key: _stamp(value, now) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_stamp(value, now) for value in obj]
    return obj


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _set_app_id(env: dict, app_id: str | None) -> None:
    for holder in (_dig(env, "context", "System"), _dig(env, "session")):
        if isinstance(holder, dict) and isinstance(holder.get("application"), dict):
            if app_id is None:
                del holder["application"]
            else:
                holder["application"]["applicationId"] = app_id


def render(plan: Plan, pki: LivePKI) -> tuple[bytes, dict[str, str]]:
    """The bytes and headers to send for ``plan``, signed now."""
    shift = {"fresh": 0, "stale": -4000, "future": 4000}[plan.clock]  # > skill events' 1 h
    now = (datetime.now(UTC) + timedelta(seconds=shift)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(plan.body, dict):
        env = _stamp(plan.body, now)
        if plan.app_id != "ours":
            _set_app_id(env, None if plan.app_id == "missing" else "amzn1.ask.skill.not-ours")
        body = json.dumps(env).encode()
    else:
        body = plan.body.replace(NOW.encode(), now.encode())
    good = pki.headers(body)
    mode, value = plan.headers, plan.header_value
    presented: dict[str, dict[str, str]] = {
        "alexa": good,
        "alexa-lowercase": {key.lower(): val for key, val in good.items()},
        "none": {"Content-Type": "application/json"},
        "no-url": {k: v for k, v in good.items() if k != "SignatureCertChainUrl"},
        "no-signature": {k: v for k, v in good.items() if k != "Signature-256"},
        "bad-url": {**good, "SignatureCertChainUrl": value},
        "garbage-signature": {**good, "Signature-256": base64.b64encode(
            value.encode("utf-8", "replace")).decode() or "AA=="},
        "signature-of-other-body": {**good, "Signature-256": sign(body + b" ", pki.key)},
        "sha1-only": {**{k: v for k, v in good.items() if k != "Signature-256"},
                      "Signature": sign_sha1(body, pki.key)},
        "huge-header": {**good, "X-Padding": "p" * 9_000},
        "not-base64": {**good, "Signature-256": "***" + value.encode("ascii", "replace")
                       .decode().replace("\n", " ").replace("\r", " ") + "***"},
    }
    headers = presented[mode]
    # http.client refuses header values that are not latin-1 or hold line breaks;
    # Alexa's are ASCII, so send such a bogus URL percent-encoded instead.
    return body, {k: v.encode("latin-1", "replace").decode("latin-1").replace("\n", "%0A")
                  .replace("\r", "%0D") for k, v in headers.items()}


@dataclass
class FuzzReport:
    examples: int = 0
    statuses: Counter = field(default_factory=Counter)
    accepted: int = 0
    rejected_unchanged: int = 0
    slowest_ms: float = 0.0
    failure: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (f"{self.examples} requests in {self.seconds:.0f} s ({codes}); "
                f"{self.rejected_unchanged} rejections, each leaving the database unchanged; "
                f"slowest answer {self.slowest_ms:.0f} ms")


def database_digest(db: Path) -> str:
    """What the database holds (every row of every table), not its bytes: the store's
    background checkpoint copies earlier writes from the log into the file at any moment."""
    sha = hashlib.sha256()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for line in conn.iterdump():
            sha.update(line.encode())
    finally:
        conn.close()
    return sha.hexdigest()


def fuzz_pass(server: LiveServer, pki: LivePKI, digest: Callable[[], str], *,
              max_examples: int, derandomize: bool = True, raise_on_failure: bool = True,
              ) -> FuzzReport:
    """Throw ``max_examples`` hostile requests at ``server`` and check the module's rules."""
    report = FuzzReport()

    @settings(max_examples=max_examples, deadline=None, database=None,
              derandomize=derandomize, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(plan=plans)
    def check(plan: Plan) -> None:
        body, headers = render(plan, pki)
        before = digest()
        started = time.monotonic()
        try:
            status, payload = server.post(body, headers)
        except ConnectionError:
            # A header gunicorn deems too large may close the connection: fine, if the
            # server is still there.
            status, payload = 0, b""
        report.slowest_ms = max(report.slowest_ms, (time.monotonic() - started) * 1000)
        report.examples += 1
        report.statuses[status] += 1
        assert status < 500, f"HTTP {status} for {plan.headers}/{plan.app_id}/{plan.clock}"
        assert server.healthy(timeout_s=5), "the server stopped answering /healthz"
        if status == 200:
            assert plan.may_be_accepted, f"accepted a request presented as {plan}"
            answer = json.loads(payload)
            assert answer.get("version") == "1.0" and "response" in answer, answer
            report.accepted += 1
        else:
            assert digest() == before, f"rejected request (HTTP {status}) changed the database"
            report.rejected_unchanged += 1

    started = time.monotonic()
    try:
        check()
    except Exception as error:  # noqa: BLE001 - reported or re-raised below
        report.failure = f"{type(error).__name__}: {error}"[:2000]
        if raise_on_failure:
            raise
    finally:
        report.seconds = time.monotonic() - started
    return report
