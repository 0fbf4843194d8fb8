"""WSGI factories for gunicorn: ``bench.wsgi:closer()`` and ``bench.wsgi:minimal()``.

Environment: BENCH_CHAIN_PEM (leaf+intermediate PEM served for the s3.amazonaws.com URL),
BENCH_ROOT_PEM (the trusted test root), CLOSER_DB (SQLite file), CLOSER_SKILL_IDS.
Verification is on; only the certificate download is replaced by a file read.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from cryptography import x509
from flask import Flask

from bench.minimal_skill import minimal_skill
from skill.app import build_skill
from skill.config import Config
from skill.store.sqlite import SQLiteStore
from skill.webhook.app import create_app
from skill.webhook.verify import CertificateFetcher, RequestVerifier


def _verifier() -> RequestVerifier:
    chain_pem = Path(os.environ["BENCH_CHAIN_PEM"]).read_bytes()
    root = x509.load_pem_x509_certificate(Path(os.environ["BENCH_ROOT_PEM"]).read_bytes())

    def opener(url: str) -> bytes:
        if urllib.parse.urlsplit(url).hostname != "s3.amazonaws.com":
            raise OSError("unexpected certificate host")
        return chain_pem

    return RequestVerifier(CertificateFetcher(opener=opener), trust_roots=[root])


def closer() -> Flask:
    config = Config.from_env(verify=True)
    store = SQLiteStore(config.db_path)
    return create_app(config, skill=build_skill(store), verifier=_verifier())


def minimal() -> Flask:
    config = Config.from_env(verify=True)
    return create_app(config, skill=minimal_skill(), verifier=_verifier())
