"""A front door that cannot be steered: an unverified server answers only this machine,
certificate URLs are fetched once each and in their plain form only, and a verifying server
needs to know which skill it serves."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skill.app import build_skill
from skill.config import Config
from skill.doors.verify import MAX_CACHED_URLS, CertificateFetcher, RequestVerifier
from skill.doors.webhook import create_app
from skill.envelopes import VerificationError
from skill.store.sqlite import SQLiteStore
from tests.support.certs import make_chain, make_root, sign
from tests.support.envelopes import envelope

CLOSER = str(Path(sys.executable).with_name("closer"))


@pytest.fixture
def unverified(sqlite_store: SQLiteStore):
    config = Config(db_path=sqlite_store.path, verify=False)
    return create_app(config, skill=build_skill(sqlite_store)).test_client()


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP",
                                    "X-Forwarded-Host"])
def test_an_unverified_server_refuses_what_came_through_a_proxy(unverified, header: str) -> None:
    """Finding: a --no-verify server behind the shipped proxies answered the internet."""
    body = json.dumps(envelope("IntentRequest", "JournalIntent"))
    refused = unverified.post("/alexa", data=body, headers={header: "203.0.113.9"},
                              content_type="application/json")
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "unverified request through a proxy"}
    direct = unverified.post("/alexa", data=body, content_type="application/json")
    assert direct.status_code == 200


def test_every_error_is_json(unverified) -> None:
    for response in (unverified.get("/alexa"), unverified.get("/nowhere"),
                     unverified.post("/alexa", data=b"[1, 2]",
                                     content_type="application/json"),
                     unverified.post("/alexa", data=b"{not json",
                                     content_type="application/json")):
        assert response.status_code in {400, 404, 405}
        assert response.is_json and "error" in response.get_json(), response.data
    assert unverified.post("/alexa", data=b"[1, 2]").get_json() == {
        "error": "json body is not an object"}
    assert "POST" in unverified.get("/alexa").headers["Allow"]


def test_metrics_has_every_family_from_the_first_scrape(unverified) -> None:
    scraped = unverified.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    text = scraped.get_data(as_text=True)
    for family in ("closer_requests_total", "closer_request_duration_seconds",
                   "closer_verification_failures_total"):
        assert f"# TYPE {family.removesuffix('_total')}" in text, family
    assert scraped.headers["Content-Type"].count("charset") == 1


def test_unsigned_requests_never_fetch_a_certificate_twice() -> None:
    """Finding: 3,000 unsigned requests with ?n=i made 3,000 downloads and grew memory."""
    root = make_root()
    chain = make_chain(root=root)
    fetched: list[str] = []

    def opener(url: str) -> bytes:
        fetched.append(url)
        raise OSError("no route")

    verifier = RequestVerifier(CertificateFetcher(opener=opener), trust_roots=[root.cert])
    body = json.dumps(envelope("LaunchRequest")).encode()
    signature = sign(body, chain.leaf.key)
    base = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"
    refused = 0
    for n in range(3000):
        for url in (f"{base}?n={n}", f"{base}#{n}", base.replace("echo.api/", f"echo.api/./{n}"),
                    base):
            with pytest.raises(VerificationError) as error:
                verifier.verify({"SignatureCertChainUrl": url, "Signature-256": signature}, body)
            refused += error.value.reason in {"bad cert url", "cert fetch failed"}
    assert refused == 4 * 3000
    assert fetched == [base]  # the plain URL once; its failure is remembered


def test_both_certificate_caches_stay_small() -> None:
    root = make_root()
    chain = make_chain(root=root)
    fetcher = CertificateFetcher(opener=lambda url: chain.pem)
    for n in range(MAX_CACHED_URLS * 3):
        fetcher.fetch(f"https://s3.amazonaws.com/echo.api/cert-{n}.pem")
    assert len(fetcher._chains) == MAX_CACHED_URLS


@pytest.mark.system
def test_a_verifying_server_needs_to_know_its_skill(tmp_path: Path) -> None:
    """Finding: with CLOSER_SKILL_IDS unset every skill's signed requests were accepted."""
    env = {"PATH": "/usr/bin:/bin", "CLOSER_DB": str(tmp_path / "db"),
           "XDG_DATA_HOME": str(tmp_path)}
    done = subprocess.run([CLOSER, "serve", "--port", "0"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == ("closer serve: set CLOSER_SKILL_IDS to your skill's id "
                                   "(amzn1.ask.skill....), or pass --any-skill to accept every "
                                   "skill's Amazon-signed requests")


@pytest.mark.system
def test_no_verify_refuses_the_proxies_port(tmp_path: Path) -> None:
    done = subprocess.run([CLOSER, "serve", "--no-verify", "--port", "8080"],
                          env={"PATH": "/usr/bin:/bin", "CLOSER_DB": str(tmp_path / "db")},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "8080" in done.stderr and "proxies" in done.stderr


@pytest.mark.system
def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run([CLOSER, "serve", "--no-verify", "--port", str(port)],
                              env={"PATH": "/usr/bin:/bin", "CLOSER_DB": str(tmp_path / "db")},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and time.monotonic() - started < 30
    assert done.stderr.strip() == f"closer serve: port {port} on 127.0.0.1 is already in use " \
                                  "(another server?)"
