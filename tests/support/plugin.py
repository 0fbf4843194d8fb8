"""Fixtures every test module may use (loaded as a pytest plugin by tests/conftest.py): a
real webhook on loopback with a real SQLite file and Amazon-style request verification
against a test certificate authority, and `closer serve --no-verify` as a process."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from skill.app import build_skill
from skill.config import Config
from skill.doors.verify import CertificateFetcher, RequestVerifier
from skill.doors.webhook import create_app
from skill.store.sqlite import SQLiteStore
from tests.support.alexa import AlexaCloud
from tests.support.certs import make_chain, make_root
from tests.support.envelopes import SKILL_ID
from tests.support.servers import closer_serve
from tests.support.talk import Talk


def pytest_configure(config: pytest.Config) -> None:
    """Every test, and every process a test starts, keeps its data in a fresh folder: never
    the developer's own household, voices or models, whatever CLOSER_* the shell has set."""
    for name in [n for n in os.environ if n.startswith("CLOSER_")]:
        del os.environ[name]
    home = tempfile.mkdtemp(prefix="closer-tests-")
    os.environ["XDG_DATA_HOME"] = os.path.join(home, "data")
    os.environ["XDG_CACHE_HOME"] = os.path.join(home, "cache")
    config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


class Webhook:
    def __init__(self, url: str, key, store: SQLiteStore, db_path: Path) -> None:
        self.url, self.key, self.store, self.db_path = url, key, store, db_path

    def household(self, user: str | None = None) -> AlexaCloud:
        return AlexaCloud(self.url, self.key, **({"user": user} if user else {}))


@pytest.fixture(scope="session")
def test_pki():
    root = make_root()
    chain = make_chain(root=root)
    return root, chain


@pytest.fixture
def webhook(tmp_path: Path, test_pki) -> Iterator[Webhook]:
    root, chain = test_pki

    # Amazon's certificate host cannot be reached here: the verifier gets the test chain
    # for the (validated) s3.amazonaws.com URL from memory instead of downloading it.
    def opener(url: str) -> bytes:
        assert urllib.parse.urlsplit(url).hostname == "s3.amazonaws.com"
        return chain.pem

    db_path = tmp_path / "closer.sqlite3"
    store = SQLiteStore(db_path)
    verifier = RequestVerifier(CertificateFetcher(opener=opener), trust_roots=[root.cert])
    config = Config(db_path=db_path, skill_ids=(SKILL_ID,))
    app = create_app(config, skill=build_skill(store), verifier=verifier)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Webhook(f"http://127.0.0.1:{server.server_port}/alexa", chain.leaf.key, store, db_path)
    server.shutdown()
    store.close()


@pytest.fixture
def unverified_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`closer serve --no-verify` on loopback, on its own database: (POST URL, database)."""
    db = tmp_path / "server.sqlite3"
    with closer_serve("--no-verify", "--workers", "1",
                      env={"CLOSER_DB": str(db), "CLOSER_DATABASE_URL": ""}) as (url, _server):
        yield f"{url}/alexa", db


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A real SQLite file of the test's own."""
    opened = SQLiteStore(tmp_path / "closer.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def talk(sqlite_store: SQLiteStore) -> Iterator[Talk]:
    """A household talking to the skill in process, as `closer chat` does."""
    conversation = Talk(sqlite_store)
    yield conversation
    conversation.end()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs PostgreSQL or Vosk is a system test too (`make test-quick` skips)."""
    for item in items:
        if item.get_closest_marker("postgres") or item.get_closest_marker("vosk"):
            item.add_marker(pytest.mark.system)
