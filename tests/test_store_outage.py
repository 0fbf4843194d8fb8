"""The PostgreSQL store when its server goes away: every call is StoreUnavailable (the
user hears "please try again"), nothing committed is lost, and the same store object works
again once the server is back, with no restart of the webhook. These tests stop and start
a server of their own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import psycopg
import pytest

from skill.store import StoreUnavailable
from skill.store.postgres import PostgresStore
from skill.store.schema import SCHEMA_VERSION
from tests.support.pg_server import PostgresServer, find_pg_bin, running_server

T = TypeVar("T")
pytestmark = [pytest.mark.system, pytest.mark.postgres]


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not found (the Makefile installs them)")
    with running_server(bin_dir, synchronous_commit="on") as own:
        yield own


def eventually(call: Callable[[], T], within_s: float = 30) -> T:
    """``call()`` once it stops raising StoreUnavailable (the pool reconnects by itself)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return call()
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_restart_means_try_again_then_heals_with_nothing_lost(server: PostgresServer) -> None:
    store = PostgresStore(server.create_database("restart"))
    try:
        store.update("h1", first_name="Sam", journal_opt_in=True)
        server.stop("fast")
        try:
            with pytest.raises(StoreUnavailable):
                store.load("h1")
            with pytest.raises(StoreUnavailable):
                store.update("h1", first_name="Alex")
            with pytest.raises(StoreUnavailable):
                store.deal_card("h1", ["a", "b"])
        finally:
            server.start()
        assert eventually(lambda: store.load("h1")).first_name == "Sam"
        assert store.update("h1", second_name="Alex").names == ("Sam", "Alex")
    finally:
        store.close()


def test_store_opens_while_the_server_is_down_and_migrates_on_first_contact(
    server: PostgresServer,
) -> None:
    url = server.create_database("late")
    server.stop("fast")
    try:
        store = PostgresStore(url)  # a worker booting during an outage must not die
        with pytest.raises(StoreUnavailable):
            store.record_visit("h1")
    finally:
        server.start()
    try:
        assert eventually(lambda: store.schema_version) == SCHEMA_VERSION
        assert store.record_visit("h1").is_new
    finally:
        store.close()


def test_a_household_locked_elsewhere_means_try_again_not_a_hang(server: PostgresServer) -> None:
    """A stuck transaction holding the household's row (a hung client, a long migration)
    must not hold a request past Alexa's deadline: lock_timeout turns it into try-again."""

    url = server.create_database("locked")
    store = PostgresStore(url)
    try:
        store.update("h1", first_name="Sam")
        with psycopg.connect(url) as stuck, stuck.transaction():
            stuck.execute("SELECT 1 FROM households WHERE household_id = 'h1' FOR UPDATE")
            with pytest.raises(StoreUnavailable):
                store.update("h1", first_name="Alex")
        assert store.update("h1", first_name="Alex").first_name == "Alex"
    finally:
        store.close()
