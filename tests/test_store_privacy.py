"""Privacy at rest, read as a thief or a careful user would read the files: forget leaves no
word on disk, the files are private whatever the umask, names and appreciations are sealed
in a stolen SQLite file and in ``pg_dump``, old rows are purged, and keys rotate. Real
SQLite files and a real PostgreSQL server (tests/pg_server.py)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from skill.store import (
    Appreciation,
    Cipher,
    Retention,
    Ritual,
    Store,
    StoreUnavailable,
    load_key,
    load_or_create_key_file,
)
from skill.store.crypto import key_id, key_text, new_key
from skill.store.postgres import PostgresStore, require_tls
from skill.store.sqlite import SQLiteStore
from tests.support.pg_server import find_pg_bin, postgres_server, postgres_url  # noqa: F401 - fixtures

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
HOUSEHOLD = "amzn1.ask.account.MARIGOLDHOUSE"
NAMES = ("Zephyrine", "Bartholomew")
WORDS = (*NAMES, "marmalade lighthouse", HOUSEHOLD)  # what must not survive a forget
SEALED_WORDS = WORDS[:3]  # what a stolen database must never show
KEY_A, KEY_B = bytes(range(32)), bytes(range(1, 33))


def fill(store: Store, household_id: str = HOUSEHOLD, names: tuple[str, str] = NAMES,
         thanks: str = "you made marmalade lighthouse toast") -> None:
    store.update(household_id, first_name=names[0], second_name=names[1], journal_opt_in=True,
                 round_state={"first": names[0]})
    store.record_visit(household_id)
    store.deal_card(household_id, ["fun-1", "fun-2"], category="fun")
    store.record_hug(household_id, 20, T0)
    store.set_reminder(household_id, "appreciation", "21:30", "token-1")
    store.add_appreciation(household_id, Appreciation(
        names[0], names[1], thanks, T0, {"mood": names[1]}))


def fill_neighbour(store: Store) -> None:
    fill(store, "amzn1.ask.account.NEIGHBOUR", ("Ana", "Jo"), "you fixed the shelf")


def sqlite_bytes(path: Path) -> bytes:
    """The database, -wal and -shm files as a thief copying the folder would get them."""
    return b"".join(Path(f"{path}{suffix}").read_bytes()
                    for suffix in ("", "-wal", "-shm") if Path(f"{path}{suffix}").exists())


def found(words: tuple[str, ...], data: bytes) -> list[str]:
    return [word for word in words if word.encode() in data]


# -- forget means gone -------------------------------------------------------------------


@pytest.mark.parametrize("cipher", [None, Cipher(KEY_A)], ids=["plain", "sealed"])
def test_forget_leaves_no_word_in_the_sqlite_files(tmp_path: Path, cipher: Cipher | None) -> None:
    path = tmp_path / "closer.sqlite3"
    store = SQLiteStore(path, cipher=cipher)
    fill_neighbour(store)  # another household forgotten earlier, then back: pages reused
    store.forget("amzn1.ask.account.NEIGHBOUR")
    fill(store)
    fill_neighbour(store)
    expected = WORDS if cipher is None else (HOUSEHOLD,)
    assert found(expected, sqlite_bytes(path)) == list(expected)  # the scan sees them
    store.forget(HOUSEHOLD)
    assert found(WORDS, sqlite_bytes(path)) == []  # while the store is still open
    store.close()
    assert found(WORDS, sqlite_bytes(path)) == []
    with sqlite3.connect(path) as conn:  # and nothing keeps counting rows
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"
                            ).fetchall() == []
    # Debian's SQLite is built with secure_delete on; other builds are not, so the store
    # turns it on for its own connections rather than rely on the build.
    reopened = SQLiteStore(path, cipher=cipher)
    with reopened.dialect.reading() as conn:
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    reopened.close()


@pytest.fixture
def pg_server(request: pytest.FixtureRequest):  # noqa: ANN201 - the server object
    return request.getfixturevalue("postgres_server")


def heap_bytes(url: str) -> bytes:
    """The raw pages of every store table as PostgreSQL wrote them to disk (dead row
    versions included: VACUUM has not run)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        tables = [row[0] for row in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 't')"
            " UNION SELECT t.reltoastrelid::regclass::text FROM pg_class t "
            "WHERE t.reltoastrelid <> 0 AND t.relnamespace = 'public'::regnamespace")]
        return b"".join(conn.execute(
            "SELECT pg_read_binary_file(pg_relation_filepath(%s::regclass))", (table,)
        ).fetchone()[0] for table in tables)


@pytest.mark.postgres
def test_postgres_pages_hold_no_readable_word_before_or_after_forget(
    postgres_server, request: pytest.FixtureRequest,  # noqa: F811 - fixture
) -> None:
    plain_url = postgres_server.create_database("privacy_plain")
    sealed_url = postgres_server.create_database("privacy_sealed")
    plain, sealed = PostgresStore(plain_url), PostgresStore(sealed_url, cipher=Cipher(KEY_A))
    try:
        for store in (plain, sealed):
            fill(store)
            store.forget(HOUSEHOLD)
        # Without encryption the deleted words live on in dead row versions (and backups)...
        assert found(SEALED_WORDS, heap_bytes(plain_url)) == list(SEALED_WORDS)
        # ... with it, there is nothing readable to live on.
        assert found(SEALED_WORDS, heap_bytes(sealed_url)) == []
    finally:
        plain.close()
        sealed.close()


# -- private files -----------------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_are_private_whatever_the_umask(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "data" / "closer" / "closer.sqlite3"
    store = SQLiteStore(path)
    store.update("h1", first_name="Sam")
    assert mode(tmp_path / "data") == mode(path.parent) == 0o700
    for name in ("closer.sqlite3", "closer.sqlite3-wal", "closer.sqlite3-shm",
                 "closer.sqlite3.writers"):
        assert mode(path.parent / name) == 0o600, name
    store.close()


def test_an_old_world_readable_database_is_made_private(tmp_path: Path, umask_022: None) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    path = folder / "closer.sqlite3"
    SQLiteStore(path).close()
    path.chmod(0o644)
    store = SQLiteStore(path)
    store.update("h1", first_name="Sam")
    assert mode(path) == 0o600 and mode(Path(f"{path}-wal")) == 0o600
    assert mode(folder) == 0o755  # a folder we did not make is left alone
    store.close()


# -- encrypted at rest -------------------------------------------------------------------


def test_a_stolen_sqlite_file_shows_no_name_or_appreciation(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    store = SQLiteStore(path, cipher=Cipher(KEY_A))
    fill(store)
    store.close()
    assert found(SEALED_WORDS, sqlite_bytes(path)) == []
    with sqlite3.connect(path) as conn:
        first, state = conn.execute("SELECT first_name, round_state FROM households").fetchone()
        text, giver, extra = conn.execute("SELECT text, giver, extra FROM appreciations"
                                          ).fetchone()
    for value in (first, state, text, giver, extra):
        assert value.startswith(f"c1.{key_id(KEY_A)}.")
    reopened = SQLiteStore(path, cipher=Cipher(KEY_A))
    assert reopened.load(HOUSEHOLD).names == NAMES  # and the key opens them again
    reopened.close()


@pytest.mark.postgres
def test_pg_dump_shows_no_name_or_appreciation(postgres_url: str) -> None:  # noqa: F811
    bin_dir = find_pg_bin()
    assert bin_dir is not None
    store = PostgresStore(postgres_url, cipher=Cipher(KEY_A))
    fill(store)
    store.close()
    dump = subprocess.run([str(bin_dir / "pg_dump"), "--data-only", postgres_url],
                          capture_output=True, check=True).stdout
    assert HOUSEHOLD.encode() in dump and b"c1." in dump  # the dump has the rows ...
    assert found(SEALED_WORDS, dump) == []  # ... and no word of them


def test_a_sealed_value_cannot_be_moved_to_another_household(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    store = SQLiteStore(path, cipher=Cipher(KEY_A))
    store.update("ours", first_name="Sam")
    store.update("theirs", first_name="Kim")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE households SET first_name = (SELECT first_name FROM households "
                     "WHERE household_id = 'ours') WHERE household_id = 'theirs'")
    with pytest.raises(StoreUnavailable):
        store.load("theirs")
    assert store.load("ours").first_name == "Sam"
    store.close()


def test_a_sealed_database_needs_its_key(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    SQLiteStore(path, cipher=Cipher(KEY_A)).close()
    with pytest.raises(StoreUnavailable, match="data key is needed"):
        SQLiteStore(path)
    with pytest.raises(StoreUnavailable, match="does not open"):
        SQLiteStore(path, cipher=Cipher(KEY_B))


def test_a_plain_database_is_sealed_when_a_key_arrives(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    plain = SQLiteStore(path)
    fill(plain)
    plain.close()
    assert found(SEALED_WORDS, sqlite_bytes(path)) == list(SEALED_WORDS)
    sealed = SQLiteStore(path, cipher=Cipher(KEY_A))
    assert found(SEALED_WORDS, sqlite_bytes(path)) == []
    assert sealed.load(HOUSEHOLD).names == NAMES
    (saved,) = sealed.appreciations_since(HOUSEHOLD, T0)
    assert saved.text == "you made marmalade lighthouse toast" and saved.extra == {
        "mood": NAMES[1]}
    sealed.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def opener(request: pytest.FixtureRequest, tmp_path: Path
           ) -> Iterator[Callable[..., Store]]:
    """Opens stores on one database with the settings given."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    opened: list[Store] = []

    def open_one(**settings: object) -> Store:
        store: Store = (PostgresStore(url, **settings) if url  # type: ignore[arg-type]
                        else SQLiteStore(tmp_path / "closer.sqlite3", **settings))
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def test_keys_rotate(opener: Callable[..., Store]) -> None:
    old = opener(cipher=Cipher(KEY_A))
    fill(old)
    old.close()
    rotating = opener(cipher=Cipher(KEY_B, old_keys=[KEY_A]))
    assert rotating.load(HOUSEHOLD).names == NAMES  # old values open with the old key
    rotating.update(HOUSEHOLD, first_name="Wren")  # new ones are sealed with the new key
    assert rotating.reencrypt() == 6  # second name, round state, giver, receiver, text, extra
    assert rotating.reencrypt() == 0  # already done
    rotating.close()
    new = opener(cipher=Cipher(KEY_B))  # the old key is no longer needed
    assert new.load(HOUSEHOLD).names == ("Wren", NAMES[1])
    assert new.appreciations_since(HOUSEHOLD, T0)[0].giver == NAMES[0]
    with pytest.raises(StoreUnavailable):
        opener(cipher=Cipher(KEY_A))


def test_keys_load_from_base64_or_hex() -> None:
    key = new_key()
    assert load_key(key_text(key)) == key
    assert load_key(key_text(key).replace("+", "-").replace("/", "_").rstrip("=")) == key
    assert load_key(key.hex()) == load_key(key.hex().upper()) == key
    for bad in ("", "not a key", key_text(key[:16]), key.hex()[:-2] + "zz"):
        with pytest.raises(ValueError):
            load_key(bad)
    with pytest.raises(ValueError):
        Cipher(key[:31])


def test_key_file_is_made_once_private_and_never_overwritten(tmp_path: Path,
                                                            umask_022: None) -> None:
    path = tmp_path / "data" / "closer.key"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_key_file(path)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 32  # racing first starts agree
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["closer.key"]  # no temp left
    assert load_or_create_key_file(path) == keys[0]
    path.write_text(key_text(KEY_B))
    assert load_or_create_key_file(path) == KEY_B  # an existing key is the key


# -- kept only as long as promised -------------------------------------------------------


def test_old_appreciations_and_rituals_are_purged_by_the_clock(
    opener: Callable[..., Store],
) -> None:
    now = [T0]
    store = opener(cipher=Cipher(KEY_A), retention=Retention(clock=lambda: now[0]))
    store.update("h1", journal_opt_in=True)  # the first write purges (nothing yet)
    for days in (0, 6, 8):
        store.add_appreciation("h1", Appreciation("A", "B", f"{days} days", T0 - timedelta(
            days=days)))
    for days in (1, 7, 9):
        store.record_ritual("h1", "question", T0 - timedelta(days=days))

    def kept() -> tuple[list[str], list[Ritual]]:
        return ([a.text for a in store.appreciations_since("h1", T0 - timedelta(days=60))],
                store.rituals_since("h1", T0 - timedelta(days=60)))

    assert len(kept()[0]) == 3  # within the hour of the last purge: nothing purged
    now[0] = T0 + timedelta(minutes=61)
    store.record_visit("h1")  # a write after the hour purges
    texts, rituals = kept()
    assert texts == ["0 days", "6 days"]  # the journal's 7 days
    assert [r.at for r in rituals] == [T0 - timedelta(days=7), T0 - timedelta(days=1)]  # 8 days


def test_the_journal_window_is_configurable_within_a_month() -> None:
    assert Retention(journal_days=31).journal_days == 31
    for days in (6, 32, 365):
        with pytest.raises(ValueError):
            Retention(journal_days=days)


def test_purge_expired_on_demand(opener: Callable[..., Store]) -> None:
    store = opener(retention=Retention(journal_days=10, clock=lambda: T0))
    store.update("h1", journal_opt_in=True)
    store.add_appreciation("h1", Appreciation("A", "B", "old", T0 - timedelta(days=11)))
    store.add_appreciation("h1", Appreciation("A", "B", "kept", T0 - timedelta(days=9)))
    store.record_hug("h1", 20, T0 - timedelta(days=9))
    assert store.purge_expired(T0) == 2  # type: ignore[attr-defined]
    assert [a.text for a in store.appreciations_since("h1", T0 - timedelta(days=30))] == [
        "kept"]


# -- connections and settings ------------------------------------------------------------


def test_postgres_asks_for_tls_except_on_this_machine() -> None:
    assert require_tls("postgresql://u@127.0.0.1:5432/db") == "postgresql://u@127.0.0.1:5432/db"
    assert require_tls("postgresql://u@localhost/db").endswith("localhost/db")
    assert require_tls("postgresql://u@[::1]/db").endswith("/db")
    assert require_tls("postgresql:///db?host=/run/postgresql").endswith("postgresql")
    assert "sslmode=require" in require_tls("postgresql://u@db.example.org/db")
    assert "sslmode=verify-full" in require_tls(
        "postgresql://u@db.example.org/db?sslmode=verify-full")
    for mode_ in ("disable", "allow", "prefer"):
        with pytest.raises(ValueError):
            require_tls(f"postgresql://u@10.0.0.5/db?sslmode={mode_}")


def test_the_store_reads_no_environment() -> None:
    store_dir = Path(__file__).resolve().parent.parent / "skill" / "store"
    readers = [path.name for path in store_dir.glob("*.py")
               if "os.environ" in path.read_text() or "getenv" in path.read_text()]
    assert readers == []
