"""Tests for skill.doors.verify (Alexa request verification)."""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509

# The project is not installed into the venv; make `skill` importable under plain `pytest`.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from skill.doors.verify import (  # noqa: E402 (after the sys.path shim)
    CertificateFetcher,
    RequestVerifier,
    VerificationError,
    check_application_id,
    check_cert_url,
)

try:
    from tests.support.certs import Chain, make_chain, make_root, sign, sign_sha1
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    from certs import Chain, make_chain, make_root, sign, sign_sha1

NOW = datetime.now(UTC).replace(microsecond=0)
CERT_BASE = "https://s3.amazonaws.com"
CERT_URL = CERT_BASE + "/echo.api/echo-api-cert.pem"
APP_ID = "amzn1.ask.skill.closer-together"


class _ChainServer:
    """Serves PEM chains from 127.0.0.1 and counts the requests it gets."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        files, hits = self.files, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                hits[self.path] = hits.get(self.path, 0) + 1
                data = files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-pem-file")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def opener(self, url: str) -> bytes:
        # Amazon's certificate host (s3.amazonaws.com) cannot exist here (no network in tests),
        # so the validated https://s3.amazonaws.com/echo.api/... URL is mapped to this local
        # server, keeping the path.
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname == "s3.amazonaws.com"
        local = f"http://127.0.0.1:{self.port}{parts.path}"
        with urllib.request.urlopen(local, timeout=3) as resp:
            return resp.read(64 * 1024 + 1)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[_ChainServer]:
    srv = _ChainServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def good() -> Chain:
    return make_chain(now=NOW)


@pytest.fixture
def make_verifier(server: _ChainServer, good: Chain) -> Callable[..., RequestVerifier]:
    def factory(
        pem: bytes | None = None,
        path: str = "/echo.api/echo-api-cert.pem",
        roots: list[x509.Certificate] | None = None,
    ) -> RequestVerifier:
        server.files[path] = pem if pem is not None else good.pem
        server.hits.pop(path, None)
        clock = NOW.timestamp
        fetcher = CertificateFetcher(opener=server.opener, clock=clock)
        return RequestVerifier(fetcher=fetcher, trust_roots=roots or [good.root.cert], clock=clock)

    return factory


def envelope(
    timestamp: datetime = NOW, request_type: str = "LaunchRequest", app_id: str = APP_ID
) -> dict:
    return {
        "version": "1.0",
        "session": {"new": True, "application": {"applicationId": app_id}},
        "context": {"System": {"application": {"applicationId": app_id}}},
        "request": {
            "type": request_type,
            "requestId": "amzn1.echo-api.request.1",
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "locale": "en-US",
        },
    }


def signed(chain: Chain, body: bytes, url: str = CERT_URL) -> dict[str, str]:
    return {"SignatureCertChainUrl": url, "Signature-256": sign(body, chain.leaf.key)}


def _body(**kwargs: object) -> bytes:
    return json.dumps(envelope(**kwargs)).encode()


def _reason(verifier: RequestVerifier, headers: dict[str, str], body: bytes) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(headers, body)
    return info.value.reason


# --------------------------------------------------------------------------- happy path


def test_valid_request_passes(make_verifier, good: Chain) -> None:
    body = _body()
    env = make_verifier().verify(signed(good, body), body)
    assert env["request"]["type"] == "LaunchRequest"


def test_header_lookup_is_case_insensitive(make_verifier, good: Chain) -> None:
    body = _body()
    headers = {k.lower(): v for k, v in signed(good, body).items()}
    assert make_verifier().verify(headers, body)["version"] == "1.0"


def test_chain_without_intermediate_passes(make_verifier) -> None:
    chain = make_chain(intermediate=False, now=NOW)
    body = _body()
    verifier = make_verifier(chain.pem, roots=[chain.root.cert])
    assert verifier.verify(signed(chain, body), body)


def test_skill_event_gets_longer_tolerance(make_verifier, good: Chain) -> None:
    body = _body(timestamp=NOW - timedelta(minutes=30), request_type="AlexaSkillEvent.SkillEnabled")
    assert make_verifier().verify(signed(good, body), body)
    body = _body(timestamp=NOW - timedelta(hours=2), request_type="AlexaSkillEvent.SkillEnabled")
    assert _reason(make_verifier(), signed(good, body), body) == "stale timestamp"


def test_cache_fetches_once_for_two_requests(make_verifier, server, good: Chain) -> None:
    verifier = make_verifier()
    for _ in range(2):
        body = _body()
        verifier.verify(signed(good, body), body)
    assert server.hits["/echo.api/echo-api-cert.pem"] == 1


def test_trusted_chain_is_checked_again_once_the_leaf_expires(server, good: Chain) -> None:
    """Path validation is cached per chain, but never past a certificate's expiry."""
    server.files["/echo.api/echo-api-cert.pem"] = good.pem
    now = [NOW.timestamp()]
    fetcher = CertificateFetcher(opener=server.opener, clock=lambda: now[0])
    verifier = RequestVerifier(fetcher=fetcher, trust_roots=[good.root.cert],
                               clock=lambda: now[0])
    body = _body()
    assert verifier.verify(signed(good, body), body)
    now[0] = (NOW + timedelta(days=31)).timestamp()  # the test leaf lives 30 days
    late = _body(timestamp=NOW + timedelta(days=31))
    assert _reason(verifier, signed(good, late), late) == "expired certificate"


def test_default_trust_roots_reject_test_chain(server, good: Chain) -> None:
    server.files["/echo.api/echo-api-cert.pem"] = good.pem
    verifier = RequestVerifier(
        fetcher=CertificateFetcher(opener=server.opener), clock=NOW.timestamp
    )
    body = _body()
    assert _reason(verifier, signed(good, body), body) == "untrusted certificate"


def test_concurrent_fetches_download_once(server: _ChainServer, good: Chain) -> None:
    path = "/echo.api/concurrent.pem"
    server.files[path] = good.pem
    fetcher = CertificateFetcher(opener=server.opener, clock=NOW.timestamp)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(len(fetcher.fetch(CERT_BASE + path))))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [2] * 8
    assert server.hits[path] == 1


def test_fetch_failures(server: _ChainServer, good: Chain) -> None:
    fetcher = CertificateFetcher(opener=server.opener, clock=NOW.timestamp)
    with pytest.raises(VerificationError) as info:
        fetcher.fetch(CERT_BASE + "/echo.api/missing.pem")
    assert info.value.reason == "cert fetch failed"
    server.files["/echo.api/huge.pem"] = good.pem * 40
    with pytest.raises(VerificationError) as info:
        fetcher.fetch(CERT_BASE + "/echo.api/huge.pem")
    assert info.value.reason == "cert chain too large"
    server.files["/echo.api/garbage.pem"] = b"not a certificate"
    with pytest.raises(VerificationError) as info:
        fetcher.fetch(CERT_BASE + "/echo.api/garbage.pem")
    assert info.value.reason == "bad cert chain"


# --------------------------------------------------------------------------- rejections


def test_tampered_body_rejected(make_verifier, good: Chain) -> None:
    body = _body()
    headers = signed(good, body)
    assert _reason(make_verifier(), headers, body.replace(b"Launch", b"Lunch!")) == "bad signature"


def test_wrong_signature_rejected(make_verifier, good: Chain) -> None:
    body = _body()
    other = make_chain(now=NOW)
    headers = {"SignatureCertChainUrl": CERT_URL, "Signature-256": sign(body, other.leaf.key)}
    assert _reason(make_verifier(), headers, body) == "bad signature"
    headers["Signature-256"] = "not base64!!"
    assert _reason(make_verifier(), headers, body) == "bad signature"


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "ftp://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://notamazon.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
        "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../x",
        "https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem",
        "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:notaport/echo.api/echo-api-cert.pem",
        # Amazon's own validation would accept these spellings of a certificate URL, but
        # Alexa never sends them; each would be a new cache key and a new download.
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/./echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api//echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/%2e%2e/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem?n=1",
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem?",
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem#x",
        "https://user@s3.amazonaws.com/echo.api/echo-api-cert.pem",
    ],
)
def test_bad_cert_urls_rejected(make_verifier, good: Chain, url: str) -> None:
    with pytest.raises(VerificationError) as info:
        check_cert_url(url)
    assert info.value.reason == "bad cert url"
    body = _body()
    assert _reason(make_verifier(), signed(good, body, url=url), body) == "bad cert url"


@pytest.mark.parametrize(
    "url",
    [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
    ],
)
def test_good_cert_urls_accepted(url: str) -> None:
    check_cert_url(url)


def test_expired_leaf_rejected(make_verifier, good: Chain) -> None:
    chain = make_chain(root=good.root, expired=True, now=NOW)
    body = _body()
    assert _reason(make_verifier(chain.pem), signed(chain, body), body) == "expired certificate"


def test_missing_san_rejected(make_verifier, good: Chain) -> None:
    chain = make_chain(root=good.root, san=None, now=NOW)
    body = _body()
    assert _reason(make_verifier(chain.pem), signed(chain, body), body) == "bad certificate san"


def test_wrong_san_rejected(make_verifier, good: Chain) -> None:
    chain = make_chain(root=good.root, san="echo-api.example.com", now=NOW)
    body = _body()
    assert _reason(make_verifier(chain.pem), signed(chain, body), body) == "bad certificate san"


def test_chain_to_untrusted_root_rejected(make_verifier, good: Chain) -> None:
    rogue = make_chain(root=make_root("Rogue Root CA", now=NOW), now=NOW)
    body = _body()
    reason = _reason(make_verifier(rogue.pem), signed(rogue, body), body)
    assert reason == "untrusted certificate"


def test_sha1_only_signature_rejected(make_verifier, good: Chain) -> None:
    body = _body()
    headers = {"SignatureCertChainUrl": CERT_URL, "Signature": sign_sha1(body, good.leaf.key)}
    assert _reason(make_verifier(), headers, body) == "sha1 signature unsupported"


@pytest.mark.parametrize("drop", ["SignatureCertChainUrl", "Signature-256", "both"])
def test_missing_headers_rejected(make_verifier, good: Chain, drop: str) -> None:
    body = _body()
    headers = signed(good, body)
    for name in list(headers):
        if drop in (name, "both"):
            del headers[name]
    assert _reason(make_verifier(), headers, body) == "missing signature headers"


def test_stale_timestamp_rejected(make_verifier, good: Chain) -> None:
    body = _body(timestamp=NOW - timedelta(seconds=151))
    assert _reason(make_verifier(), signed(good, body), body) == "stale timestamp"


def test_future_timestamp_rejected(make_verifier, good: Chain) -> None:
    body = _body(timestamp=NOW + timedelta(seconds=151))
    assert _reason(make_verifier(), signed(good, body), body) == "future timestamp"


def test_timestamp_within_tolerance_passes(make_verifier, good: Chain) -> None:
    for offset in (-150, 150):
        body = _body(timestamp=NOW + timedelta(seconds=offset))
        assert make_verifier().verify(signed(good, body), body)


def test_malformed_json_rejected(make_verifier, good: Chain) -> None:
    body = b'{"request": {"type": "LaunchRequest"'
    assert _reason(make_verifier(), signed(good, body), body) == "malformed json"


def test_non_object_json_rejected(make_verifier, good: Chain) -> None:
    body = b"[1, 2, 3]"
    assert _reason(make_verifier(), signed(good, body), body) == "json body is not an object"


def test_unparsable_timestamp_rejected(make_verifier, good: Chain) -> None:
    env = envelope()
    env["request"]["timestamp"] = "yesterday"
    body = json.dumps(env).encode()
    assert _reason(make_verifier(), signed(good, body), body) == "bad timestamp"


# --------------------------------------------------------------------------- application id


def test_application_id_checks() -> None:
    env = envelope()
    check_application_id(env, [APP_ID])
    check_application_id(env, [])
    check_application_id(envelope(app_id="amzn1.ask.skill.other"), set())
    with pytest.raises(VerificationError) as info:
        check_application_id(envelope(app_id="amzn1.ask.skill.other"), {APP_ID})
    assert info.value.reason == "unknown application id"


def test_application_id_from_session_only() -> None:
    env = envelope()
    del env["context"]
    check_application_id(env, {APP_ID})
    env["session"]["application"]["applicationId"] = "amzn1.ask.skill.other"
    with pytest.raises(VerificationError) as info:
        check_application_id(env, {APP_ID})
    assert info.value.reason == "unknown application id"
