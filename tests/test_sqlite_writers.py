"""SQLite writers take turns on a lock file beside the database; a stuck turn must end in
"please try again" (StoreUnavailable), never in a request that hangs past Alexa's 8 s."""

from __future__ import annotations

import fcntl
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from skill.store import StoreUnavailable
from skill.store.sqlite import SQLiteStore

pytestmark = pytest.mark.system  # processes sharing one SQLite file


def test_a_held_turn_gives_store_unavailable_not_a_hang(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "closer.sqlite3", busy_timeout_ms=300)
    store.update("household", first_name="Ana")
    # Another process stuck mid-write holds the writers' lock (a separate open file
    # description conflicts with ours exactly as another process's would).
    holder = os.open(store.turn_path, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with pytest.raises(StoreUnavailable):
            store.update("household", first_name="Bo")
    finally:
        os.close(holder)
    assert store.load("household").first_name == "Ana"
    assert store.update("household", first_name="Bo").first_name == "Bo"
    store.close()


def test_writers_in_many_threads_all_land(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "closer.sqlite3")
    seconds = [5 + i for i in range(40)]

    def hug(i: int) -> None:
        store.record_hug("household", seconds[i], datetime.now(UTC))

    threads = [threading.Thread(target=hug, args=(i,)) for i in range(len(seconds))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.record_hug("household", 20, datetime.now(UTC)) == len(seconds) + 1
    store.close()
