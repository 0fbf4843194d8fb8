"""`closer chat` as a user runs it: typed turns on stdin, what the speaker says on stdout,
a store that outlives the process, and one clear line when something is wrong. (What the
rituals say, turn by turn, is tested in process: test_round.py, test_rituals.py, test_care.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skill.store import Cipher, load_or_create_key_file
from skill.store.sqlite import SQLiteStore
from tests.support.servers import closer_serve
from tests.support.talk import Talk

pytestmark = pytest.mark.system

CLOSER = str(Path(sys.executable).with_name("closer"))
ROUND = ["start our appreciation round", "we're sam and alex", "yes",
         "you made me laugh at dinner when I was tired", "I loved that you called my mom"]


def chat(db: Path, *lines: str, args: tuple[str, ...] = (), status: int = 0, **env: str
         ) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CLOSER_DB": str(db), **env}
    done = subprocess.run([CLOSER, "chat", *args], input="".join(f"{line}\n" for line in lines),
                          text=True, capture_output=True, env=environment, timeout=120)
    assert done.returncode == status, done.stderr
    return done


def said(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removeprefix("closer: ") for line in done.stdout.splitlines()
            if line.startswith("closer: ")]


def test_a_round_then_the_journal_after_a_restart(tmp_path: Path) -> None:
    done = chat(tmp_path / "db", *ROUND)
    replies = said(done)
    assert "Tell me your two first names" in replies[0]
    assert replies[2].endswith("Sam, what's one thing you appreciated about Alex today?")
    assert "Alex, Sam appreciated that you made Sam laugh at dinner when Sam was tired." in (
        replies[3])
    assert "Sam, Alex loved that you called Alex's mom." in replies[4]
    assert replies[4].endswith("Sleep well, Sam and Alex.")
    assert "laugh" not in done.stderr and "Sam" not in done.stderr  # nothing said is logged
    # A new process on the same store is the same household: the journal is still there.
    (journal,) = said(chat(tmp_path / "db", "read our journal"))
    assert "Sam appreciated that Alex made Sam laugh at dinner" in journal


def test_what_is_stored_is_encrypted_with_a_private_key_file(tmp_path: Path) -> None:
    chat(tmp_path / "db", *ROUND)
    key = tmp_path / "closer.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"laugh" not in (tmp_path / "db").read_bytes()
    store = SQLiteStore(tmp_path / "db", cipher=Cipher(load_or_create_key_file(key)))
    try:
        assert store.load(store.local_household_id()).names == ("Sam", "Alex")
    finally:
        store.close()


def test_blank_line_ends_the_chat(tmp_path: Path) -> None:
    done = chat(tmp_path / "db", "give us a question", "", "next")
    assert len(said(done)) == 1
    assert done.stdout.splitlines()[0] == "you: give us a question"


def test_household_id_from_the_environment(tmp_path: Path) -> None:
    chat(tmp_path / "db", *ROUND, CLOSER_HOUSEHOLD_ID="kitchen")
    (other,) = said(chat(tmp_path / "db", "read our journal", CLOSER_HOUSEHOLD_ID="bedroom"))
    assert other.startswith("Your journal is off")
    (same,) = said(chat(tmp_path / "db", "read our journal", CLOSER_HOUSEHOLD_ID="kitchen"))
    assert "made Sam laugh" in same


def test_through_a_webhook(tmp_path: Path, unverified_server: tuple[str, Path]) -> None:
    url, server_db = unverified_server
    card, following = said(chat(tmp_path / "local.sqlite3", "give us a fun question", "next",
                                args=("--endpoint", url)))
    assert following != card and not card.startswith("Sorry")
    # No store is opened on the speaker's side: its household id lives in a small file.
    assert not (tmp_path / "local.sqlite3").exists()
    household = (tmp_path / "household-id").read_text().strip()
    key = load_or_create_key_file(server_db.with_name("closer.key"))
    server = SQLiteStore(server_db, cipher=Cipher(key))
    try:  # the cards were dealt by the server, to the speaker's household
        assert server.load(household).last_category == "fun"
    finally:
        server.close()


def test_unreachable_webhook_is_one_clear_error(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/alexa"  # the discard port: nothing listens there
    done = chat(tmp_path / "db", "give us a question", args=("--endpoint", url), status=1)
    assert f"cannot reach the webhook at {url}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_webhook_refusal_is_shown_with_its_reason(tmp_path: Path) -> None:
    server_env = {"CLOSER_DB": str(tmp_path / "server.sqlite3"),
                  "CLOSER_SKILL_IDS": "amzn1.ask.skill.only-this-one"}
    with closer_serve("--no-verify", "--workers", "1", env=server_env) as (base, _):
        done = chat(tmp_path / "db", "give us a question", args=("--endpoint", f"{base}/alexa"),
                    status=1)
    assert "answered HTTP 400: unknown application id" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_the_readme_dinner_runs_in_process_the_same(sqlite_store: SQLiteStore) -> None:
    """The in-process tier's Talk is the same conversation as the command."""
    talk = Talk(sqlite_store)
    card, remark, again, thanks = talk("give us a question", "hmm, good question",
                                       "what was the question again", "thanks")
    assert remark == ("Sorry, I didn't catch that. "
                      "Say next for another question, or repeat to hear it again.")
    assert again.removeprefix("Again: ") in card
    assert thanks == "You're welcome. Enjoy the conversation."
