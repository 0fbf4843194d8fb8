"""A real webhook process on a loopback port, for tests and bench/loadtest.py.

gunicorn (gthread workers, as in production) serves ``tests.support.live_server:app()``: the real
``create_app`` and skill, the store from ``CLOSER_DB`` or ``CLOSER_DATABASE_URL``, and
Amazon request verification ON. The only stand-in is the certificate download: the chain
for the (validated) s3.amazonaws.com URL is read from ``LIVE_CHAIN_PEM``, and the test
root in ``LIVE_ROOT_PEM`` is the trusted root, so requests signed with the test leaf key
verify exactly as Alexa's do.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from tests.support.certs import Chain, file_verifier, make_chain, make_root, sign
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-live.pem"


def app() -> Flask:
    """The gunicorn factory (runs in each worker)."""
    from skill import logs
    from skill.config import Config
    from skill.doors.webhook import create_app

    logs.setup(getattr(logging, os.environ.get("LIVE_LOG_LEVEL", "WARNING")))
    verifier = file_verifier(Path(os.environ["LIVE_CHAIN_PEM"]), Path(os.environ["LIVE_ROOT_PEM"]))
    return create_app(Config.from_env(verify=True), verifier=verifier)


@dataclass
class LivePKI:
    """A root and an Alexa-shaped chain, written where the server processes can read them."""

    chain: Chain
    chain_pem: Path
    root_pem: Path

    @classmethod
    def create(cls, directory: Path) -> LivePKI:
        chain = make_chain(root=make_root())
        directory.mkdir(parents=True, exist_ok=True)
        chain_pem, root_pem = directory / "chain.pem", directory / "root.pem"
        chain_pem.write_bytes(chain.pem)
        root_pem.write_bytes(chain.root.cert.public_bytes(serialization.Encoding.PEM))
        return cls(chain, chain_pem, root_pem)

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return self.chain.leaf.key

    def headers(self, body: bytes) -> dict[str, str]:
        """The headers Alexa sends with ``body``."""
        return {"Content-Type": "application/json", "SignatureCertChainUrl": CERT_URL,
                "Signature-256": sign(body, self.key)}


class LiveServer:
    """One webhook instance: ``start``, ``kill`` (SIGKILL to master and workers), ``stop``.

    Its port is picked before it starts and kept across a kill and a restart: the load test
    measures what clients see while an instance is down (refused connections), which a
    listening socket held for it by the test would hide."""

    def __init__(self, name: str, pki: LivePKI, store_env: dict[str, str], log_path: Path,
                 *, port: int | None = None, workers: int = 2, threads: int = 4,
                 skill_ids: str = "") -> None:
        self.name, self.log_path = name, log_path
        self.port = port or free_port()
        self.workers, self.threads = workers, threads
        self.env = {**os.environ, **store_env, "LIVE_CHAIN_PEM": str(pki.chain_pem),
                    "LIVE_ROOT_PEM": str(pki.root_pem), "PYTHONPATH": str(ROOT)}
        if "CLOSER_DB" in store_env:
            self.env.pop("CLOSER_DATABASE_URL", None)
        if skill_ids:
            self.env["CLOSER_SKILL_IDS"] = skill_ids
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60) -> float:
        """Start gunicorn and wait until /healthz answers; returns the seconds it took."""
        started = time.monotonic()
        command = [str(Path(sys.executable).parent / "gunicorn"), "-k", "gthread",
                   "-w", str(self.workers), "--threads", str(self.threads),
                   "--timeout", "7", "--graceful-timeout", "10", "--keep-alive", "5",
                   "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                   "tests.support.live_server:app()"]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        while time.monotonic() - started < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; "
                                   f"see {self.log_path}")
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not come up; see {self.log_path}")

    def healthy(self, timeout_s: float = 1.0) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
            try:
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            return False

    def kill(self) -> None:
        """kill -9 the whole instance (master and workers): a crash, nothing graceful.
        Returns once its port refuses connections (the processes die a few ms apart)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                except OSError:
                    return
                time.sleep(0.002)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def post(self, body: bytes, headers: dict[str, str],
             timeout_s: float = 10) -> tuple[int, bytes]:
        """One POST /alexa on a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            conn.request("POST", "/alexa", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


def speech(payload: bytes) -> str:
    """The SSML an answer would speak ('' if the payload is not a skill response)."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return ""
    output = (answer.get("response") or {}).get("outputSpeech") or {}
    return str(output.get("ssml") or "")
