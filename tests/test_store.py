"""Household store contract tests over real databases: a SQLite file and a PostgreSQL server,
with encryption on as in the product (tests/test_store_privacy.py: what is on disk)."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from skill.store import (
    Appreciation,
    Cipher,
    Household,
    Reminder,
    Ritual,
    Store,
    StoreUnavailable,
    open_store,
)
from skill.store.postgres import PostgresStore
from skill.store.schema import SCHEMA_VERSION
from skill.store.sqlite import SQLiteStore
from tests.support.pg_server import postgres_server, postgres_url  # noqa: F401 - fixtures
from tests.support.threads import run_threads

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
KEY = bytes(range(32))
StoreFactory = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens independent stores on one database (like separate processes)."""
    opened: list[Store] = []
    # A fresh database on the session's real PostgreSQL server for each postgres test.
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None

    def factory() -> Store:
        if request.param == "sqlite":
            store: Store = SQLiteStore(tmp_path / "data" / "closer.sqlite3", cipher=Cipher(KEY))
        else:
            assert url is not None
            store = PostgresStore(url, cipher=Cipher(KEY))
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


# -- households ------------------------------------------------------------------------


def test_fresh_household_has_defaults_and_is_new(store: Store) -> None:
    household = store.load("h1")
    assert household == Household(household_id="h1")
    assert household.is_new
    assert household.names is None


def test_load_does_not_create_household(store: Store) -> None:
    store.load("ghost")
    assert store.record_visit("ghost").visits == 0


def test_update_and_load_round_trip(store: Store) -> None:
    round_state = {"turn": 2, "said": ["A", "B"], "nested": {"ok": True, "name": "지민"}}
    updated = store.update(
        "h1",
        first_name="Sam",
        second_name="Alex",
        journal_opt_in=True,
        last_category="fun",
        last_card_id="fun-3",
        round_state=round_state,
        checkin_state={"step": "mood"},
        deep_state={"set": 2, "heard": ["deep-1", "deep-4"]},
    )
    loaded = store.load("h1")
    assert loaded == updated
    assert loaded.names == ("Sam", "Alex")
    assert loaded.journal_opt_in is True
    assert loaded.round_state == round_state
    assert loaded.checkin_state == {"step": "mood"}
    assert loaded.deep_state == {"set": 2, "heard": ["deep-1", "deep-4"]}

    cleared = store.update("h1", round_state=None, journal_opt_in=False)
    assert cleared.round_state is None
    assert cleared.journal_opt_in is False
    assert cleared.first_name == "Sam"  # untouched fields stay


def test_update_rejects_unknown_fields(store: Store) -> None:
    with pytest.raises(ValueError):
        store.update("h1", visits=10)
    assert store.load("h1").visits == 0


def test_a_household_known_from_a_one_shot_request_is_not_new(store: Store) -> None:
    """"ask closer together for a question" keeps the card without a visit: the first launch
    after it says welcome back, not the first-time introduction."""
    store.deal_card("h1", ["c1", "c2"], category="fun")
    assert not store.record_visit("h1").is_new
    assert store.record_visit("h2").is_new


def test_record_visit_returns_previous_state(store: Store) -> None:
    first = store.record_visit("h1")
    assert first.is_new and first.visits == 0
    second = store.record_visit("h1")
    assert second.visits == 1 and not second.is_new
    assert store.load("h1").visits == 2


# -- cards -----------------------------------------------------------------------------


def test_deal_card_never_repeats_until_pool_exhausted(store: Store) -> None:
    pool = [f"c{i}" for i in range(10)]
    rng = random.Random(7)
    dealt = [store.deal_card("h1", pool, rng) for _ in range(10)]
    assert sorted(card for card, _ in dealt) == sorted(pool)
    assert not any(reshuffled for _, reshuffled in dealt)

    last = dealt[-1][0]
    card, reshuffled = store.deal_card("h1", pool, rng)
    assert reshuffled
    assert card != last
    # The new round again deals every card once.
    rest = [store.deal_card("h1", pool, rng) for _ in range(9)]
    assert sorted([card] + [c for c, _ in rest]) == sorted(pool)
    assert not any(r for _, r in rest)


def test_a_card_talked_about_is_in_the_week_with_the_same_write(store: Store) -> None:
    store.deal_card("h1", ["a", "b"], category="fun", talked_at=T0)
    store.deal_card("h1", ["a", "b"], category="fun")  # a deal that logs nothing
    assert [(r.kind, r.at) for r in store.rituals_since("h1", T0)] == [("question", T0)]


def test_deal_card_large_pool_never_repeats_until_exhausted(store: Store) -> None:
    """A pool larger than the cards the store looks up first (PICK_SAMPLE): every card once,
    also in the last rounds where most of the pool has been heard."""
    pool = [f"c{i}" for i in range(60)]
    rng = random.Random(3)
    dealt = [store.deal_card("h1", pool, rng) for _ in range(60)]
    assert sorted(card for card, _ in dealt) == sorted(pool)
    assert not any(reshuffled for _, reshuffled in dealt)
    assert store.deal_card("h1", pool, rng)[1]


def test_deal_card_picks_evenly_among_unheard_cards(store: Store) -> None:
    """Households that heard 30 of 40 cards get each of the other 10 about equally often."""
    pool = [f"c{i:02d}" for i in range(40)]
    rng = random.Random(11)
    counts = dict.fromkeys(pool[30:], 0)
    for house in range(200):
        for _ in range(30):
            store.deal_card(f"h{house}", pool[:30], rng)
        card, reshuffled = store.deal_card(f"h{house}", pool, rng)
        assert not reshuffled and card in counts
        counts[card] += 1
    assert min(counts.values()) >= 6 and max(counts.values()) <= 40, counts  # about 20 each


@pytest.mark.parametrize("seed", range(15))
def test_reshuffle_does_not_deal_last_card_first(store: Store, seed: int) -> None:
    pool = ["a", "b", "c"]
    rng = random.Random(seed)
    first_round = [store.deal_card("h1", pool, rng)[0] for _ in range(3)]
    card, reshuffled = store.deal_card("h1", pool, rng)
    assert reshuffled and card != first_round[-1]


def test_deal_card_single_card_pool_reshuffles_to_itself(store: Store) -> None:
    assert store.deal_card("h1", ["only"]) == ("only", False)
    assert store.deal_card("h1", ["only"]) == ("only", True)


def test_deal_card_with_category_remembers_the_last_card(store: Store) -> None:
    store.update("h1", first_name="Ana")
    card, _ = store.deal_card("h1", ["f1", "f2"], category="fun")
    household = store.load("h1")
    assert (household.last_category, household.last_card_id) == ("fun", card)
    assert household.first_name == "Ana"
    store.deal_card("h1", ["d1"])  # without a category the last card stays as it was
    assert store.load("h1").last_card_id == card


def test_update_creates_then_changes_only_what_is_given(store: Store) -> None:
    assert store.update("h1").household_id == "h1"
    assert store.update("h1", first_name="Ana", round_state={"step": "first"}).names is None
    changed = store.update("h1", second_name="Bo")
    assert changed.names == ("Ana", "Bo") and changed.round_state == {"step": "first"}
    assert store.update("h1", round_state=None).round_state is None


def test_deal_card_pools_are_independent(store: Store) -> None:
    fun = ["f1", "f2"]
    deep = ["d1", "d2"]
    store.deal_card("h1", fun)
    store.deal_card("h1", fun)
    assert store.deal_card("h1", deep)[1] is False
    card, reshuffled = store.deal_card("h1", fun)
    assert reshuffled and card in fun
    assert store.deal_card("h1", deep)[1] is False  # deep's seen mark survived fun's reshuffle


def test_deal_card_households_are_independent(store: Store) -> None:
    pool = ["a", "b"]
    store.deal_card("h1", pool)
    store.deal_card("h1", pool)
    assert store.deal_card("h2", pool)[1] is False


def test_deal_card_across_two_store_instances(store_factory: StoreFactory) -> None:
    one, two = store_factory(), store_factory()
    pool = [f"c{i}" for i in range(6)]
    dealt = []
    for i in range(6):
        dealt.append((one if i % 2 else two).deal_card("h1", pool)[0])
    assert sorted(dealt) == sorted(pool)
    card, reshuffled = one.deal_card("h1", pool)
    assert reshuffled and card != dealt[-1]


def _deal_in_process(path: str, pool: list[str], count: int) -> list[str]:
    store = SQLiteStore(path)
    try:
        return [store.deal_card("h1", pool)[0] for _ in range(count)]
    finally:
        store.close()


def test_sqlite_deal_card_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "closer.sqlite3")
    SQLiteStore(path).close()
    pool = [f"c{i:02d}" for i in range(60)]
    with multiprocessing.get_context("spawn").Pool(3) as workers:
        parts = workers.starmap(_deal_in_process, [(path, pool, 20)] * 3)
    assert sorted(card for part in parts for card in part) == pool


def test_deal_card_empty_pool(store: Store) -> None:
    with pytest.raises(ValueError):
        store.deal_card("h1", [])


# -- hugs and appreciations ------------------------------------------------------------


def test_record_hug_counts_the_last_seven_days(store: Store) -> None:
    assert store.record_hug("h1", 20, T0 - timedelta(days=10)) == 1
    assert store.record_hug("h1", 20, T0 - timedelta(days=2)) == 1  # the 8-days-older one is out
    assert store.record_hug("h1", 30, T0 - timedelta(hours=1)) == 2
    assert store.record_hug("h1", 25, T0) == 3
    assert store.record_hug("h2", 25, T0) == 1  # other households don't count
    # Exactly 7 days later the hug at T0 has left the window; earlier hugs never count later.
    assert store.record_hug("h1", 15, T0 + timedelta(days=7)) == 1


def test_hug_times_are_kept_to_the_minute(store: Store) -> None:
    store.record_hug("h1", 20, T0 + timedelta(seconds=42, microseconds=123456))
    assert store.rituals_since("h1", T0 - timedelta(days=1)) == [Ritual("hug", T0, 20)]


def test_rituals_are_logged_for_the_week(store: Store) -> None:
    store.record_ritual("h1", "appreciation_round", T0 - timedelta(days=3))
    store.record_hug("h1", 30, T0 - timedelta(days=2))
    store.record_ritual("h1", "question", T0 - timedelta(hours=1, seconds=5))
    store.record_ritual("h1", "listening", T0, seconds=240)
    store.record_ritual("h1", "deep_conversation", T0 - timedelta(days=9))  # before the week
    store.record_ritual("h2", "checkin", T0)  # another household
    assert store.rituals_since("h1", T0 - timedelta(days=7)) == [
        Ritual("appreciation_round", T0 - timedelta(days=3)),
        Ritual("hug", T0 - timedelta(days=2), 30),
        Ritual("question", T0 - timedelta(hours=1, minutes=1)),
        Ritual("listening", T0, 240),
    ]
    kind, at, seconds = store.rituals_since("h2", T0)[0]
    assert (kind, at, seconds) == ("checkin", T0, None)


def test_unknown_ritual_kinds_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        store.record_ritual("h1", "nap", T0)
    assert store.load("h1").is_new


def test_every_ritual_kind_is_kept(store: Store) -> None:
    kinds = ["appreciation_round", "hug", "question", "checkin", "listening",
             "deep_conversation", "quiet_round"]
    for minute, kind in enumerate(kinds):
        store.record_ritual("h1", kind, T0 + timedelta(minutes=minute))
    assert [r.kind for r in store.rituals_since("h1", T0)] == kinds


# -- reminders ---------------------------------------------------------------------------


def test_reminders_are_kept_per_ritual_and_replaced(store: Store) -> None:
    assert store.reminders("h1") == []
    assert store.set_reminder("h1", "appreciation", "21:30", "alexa-token-1") is None
    assert store.set_reminder("h1", "hug", "07:15") is None
    assert store.reminders("h1") == [Reminder("hug", "07:15"),
                                     Reminder("appreciation", "21:30", "alexa-token-1")]
    replaced = store.set_reminder("h1", "appreciation", "21:00", "alexa-token-2")
    assert replaced == Reminder("appreciation", "21:30", "alexa-token-1")
    assert store.reminders("h1")[1] == Reminder("appreciation", "21:00", "alexa-token-2")
    assert store.reminders("h2") == []


def test_reminders_refuse_unknown_rituals_and_times(store: Store) -> None:
    for ritual, at in (("nap", "21:00"), ("hug", "9:30"), ("hug", "24:00"), ("hug", "21:60")):
        with pytest.raises(ValueError):
            store.set_reminder("h1", ritual, at)
    assert store.reminders("h1") == []


def test_clear_reminders_returns_what_it_removed(store: Store) -> None:
    store.set_reminder("h1", "checkin", "19:00", "t-1")
    store.set_reminder("h1", "question", "18:00")
    store.set_reminder("h2", "hug", "08:00")
    assert store.clear_reminders("h1") == [Reminder("question", "18:00"),
                                           Reminder("checkin", "19:00", "t-1")]
    assert store.reminders("h1") == [] and store.clear_reminders("h1") == []
    assert store.reminders("h2") == [Reminder("hug", "08:00")]


def test_a_nudge_is_marked_once_a_day(store: Store) -> None:
    day = date(2026, 11, 20)
    assert store.mark_nudged("h1", "hug", day) is False  # no such reminder
    store.set_reminder("h1", "hug", "08:00")
    assert store.mark_nudged("h1", "hug", day) is True
    assert store.mark_nudged("h1", "hug", day) is False  # already spoken today
    assert store.reminders("h1")[0].last_nudged == day
    assert store.mark_nudged("h1", "hug", day + timedelta(days=1)) is True
    store.set_reminder("h1", "hug", "09:00")  # a new time starts afresh
    assert store.reminders("h1")[0].last_nudged is None


def test_concurrent_speakers_nudge_once(store_factory: StoreFactory) -> None:
    stores = [store_factory() for _ in range(4)]
    stores[0].set_reminder("h1", "appreciation", "21:30")
    marked: list[bool] = []
    run_threads(4, lambda i: marked.append(
        stores[i].mark_nudged("h1", "appreciation", date(2026, 11, 20))))
    assert sorted(marked) == [False, False, False, True]


# -- the journal -------------------------------------------------------------------------


def test_appreciations_newest_first_and_since(store: Store) -> None:
    store.update("h1", journal_opt_in=True)
    store.update("h2", journal_opt_in=True)
    said = [T0 - timedelta(days=d) for d in (3, 0, 10, 1)]
    for i, when in enumerate(said):
        store.add_appreciation(
            "h1", Appreciation(giver="Sam", receiver="Alex", text=f"thanks {i}", said_at=when)
        )
    store.add_appreciation("h2", Appreciation(giver="Jo", receiver="Kim", text="other", said_at=T0))

    everything = store.appreciations_since("h1", T0 - timedelta(days=30))
    assert [a.said_at for a in everything] == sorted(said, reverse=True)
    assert [a.text for a in everything] == ["thanks 1", "thanks 3", "thanks 0", "thanks 2"]
    assert everything[0] == Appreciation("Sam", "Alex", "thanks 1", T0)

    recent = store.appreciations_since("h1", T0 - timedelta(days=3))  # inclusive bound
    assert [a.text for a in recent] == ["thanks 1", "thanks 3", "thanks 0"]
    assert store.appreciations_since("h3", T0 - timedelta(days=30)) == []


def test_appreciation_extra_round_trips(store: Store) -> None:
    store.update("h1", journal_opt_in=True)
    store.add_appreciation(
        "h1",
        Appreciation("Sam", "Alex", "you listened", T0, extra={"mood": "warm", "round": 2}),
    )
    (saved,) = store.appreciations_since("h1", T0)
    assert saved.extra == {"mood": "warm", "round": 2}


def test_appreciation_is_kept_only_with_the_journal_on(store: Store) -> None:
    thanks = Appreciation("Sam", "Alex", "you listened", T0)
    assert store.add_appreciation("h1", thanks) is False  # never asked
    store.update("h1", journal_opt_in=False)
    assert store.add_appreciation("h1", thanks) is False  # said no
    assert store.appreciations_since("h1", T0) == []
    store.update("h1", journal_opt_in=True)
    assert store.add_appreciation("h1", thanks) is True
    assert store.appreciations_since("h1", T0) == [thanks]


# -- forget ----------------------------------------------------------------------------


def _fill(store: Store, household_id: str) -> None:
    store.update(household_id, first_name="Sam", journal_opt_in=True, round_state={"turn": 1},
                 deep_state={"step": 3})
    store.record_visit(household_id)
    store.deal_card(household_id, ["a", "b", "c"])
    store.record_hug(household_id, 20, T0)
    store.record_ritual(household_id, "checkin", T0)
    store.set_reminder(household_id, "hug", "08:00", "token")
    store.add_appreciation(household_id, Appreciation("Sam", "Alex", "thanks", T0))


def test_forget_removes_everything_and_spares_others(store: Store) -> None:
    _fill(store, "h1")
    _fill(store, "h2")
    store.forget("h1")

    assert store.load("h1") == Household(household_id="h1")
    assert store.appreciations_since("h1", T0 - timedelta(days=365)) == []
    assert store.rituals_since("h1", T0 - timedelta(days=365)) == []
    assert store.reminders("h1") == []
    assert store.record_hug("h1", 10, T0) == 1  # the old hug is gone
    assert [store.deal_card("h1", ["a"])] == [("a", False)]  # seen marks are gone

    other = store.load("h2")
    assert other.first_name == "Sam" and other.visits == 1 and other.round_state == {"turn": 1}
    assert other.deep_state == {"step": 3}
    assert len(store.appreciations_since("h2", T0)) == 1
    assert len(store.rituals_since("h2", T0)) == 2 and len(store.reminders("h2")) == 1
    assert store.record_hug("h2", 10, T0) == 2


def test_forget_leaves_no_rows_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    store = SQLiteStore(path)
    _fill(store, "h1")
    store.forget("h1")
    store.close()
    with sqlite3.connect(path) as conn:
        for table in ("households", "seen_cards", "rituals", "appreciations", "reminders"):
            count = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            assert count == 0, table


# -- the local speaker's household ---------------------------------------------------


def test_local_household_id_is_made_once_and_kept(store_factory: StoreFactory) -> None:
    first = store_factory()
    household_id = first.local_household_id()
    assert household_id.startswith("local.") and len(household_id) > 20
    assert first.local_household_id() == household_id
    first.close()
    assert store_factory().local_household_id() == household_id  # reopened: same household


def test_local_household_id_is_one_for_concurrent_first_starts(
    store_factory: StoreFactory,
) -> None:
    stores = [store_factory() for _ in range(4)]
    seen: list[str] = []
    run_threads(4, lambda i: seen.append(stores[i].local_household_id()))
    assert len(set(seen)) == 1


def test_local_household_ids_differ_between_databases(tmp_path: Path) -> None:
    one, two = SQLiteStore(tmp_path / "a.sqlite3"), SQLiteStore(tmp_path / "b.sqlite3")
    assert one.local_household_id() != two.local_household_id()
    one.close()
    two.close()


def test_forget_keeps_the_local_id_and_starts_afresh(store: Store) -> None:
    household_id = store.local_household_id()
    _fill(store, household_id)
    store.forget(household_id)
    assert store.local_household_id() == household_id
    assert store.load(household_id) == Household(household_id=household_id)


# -- SQLite specifics ------------------------------------------------------------------


def test_sqlite_creates_parent_dir_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "closer.sqlite3"
    store = SQLiteStore(path)
    store.update("h1", first_name="Sam")
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_sqlite_reopen_keeps_data_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    store = SQLiteStore(path)
    _fill(store, "h1")
    store.close()

    reopened = SQLiteStore(path)
    assert reopened.schema_version == SCHEMA_VERSION >= 1
    household = reopened.load("h1")
    assert household.first_name == "Sam" and household.visits == 1
    assert len(reopened.appreciations_since("h1", T0)) == 1
    reopened.close()


def test_sqlite_locked_database_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "closer.sqlite3"
    store = SQLiteStore(path, busy_timeout_ms=50)
    store.update("h1", first_name="Sam")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable):
            store.update("h1", first_name="Alex")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.load("h1").first_name == "Sam"  # committed data intact
    assert store.update("h1", first_name="Alex").first_name == "Alex"  # and usable again
    store.close()


def test_closed_store_raises(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "closer.sqlite3")
    store.close()
    with pytest.raises(StoreUnavailable):
        store.load("h1")


def test_open_store_takes_its_settings_as_arguments(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOSER_DB", str(tmp_path / "ignored.sqlite3"))  # the store reads none
    explicit = tmp_path / "explicit.sqlite3"
    store = open_store(db_path=explicit, cipher=Cipher(KEY))
    assert isinstance(store, SQLiteStore) and store.path == explicit
    assert store.cipher is not None and store.retention is not None  # the default promise
    store.close()
    assert not (tmp_path / "ignored.sqlite3").exists()


def test_the_configured_store_is_the_one_opened(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from skill.app import open_configured_store
    from skill.config import Config

    chosen = tmp_path / "env" / "closer.sqlite3"
    store = open_configured_store(Config.from_env({"CLOSER_DB": str(chosen)}))
    assert isinstance(store, SQLiteStore) and store.path == chosen
    assert store.cipher is not None  # a key file was made beside it
    store.close()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    store = open_configured_store(Config.from_env({}))
    assert store.path.name == "closer.sqlite3" and "closer-together" in store.path.parts
    store.close()


@pytest.mark.postgres
def test_open_store_postgres_url(request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_url")
    store = open_store(db_path="unused", database_url=url, cipher=Cipher(KEY))
    assert isinstance(store, PostgresStore)
    assert store.update("h1", first_name="Sam").first_name == "Sam"
    store.close()


# -- concurrency -----------------------------------------------------------------------


def test_concurrent_deal_card_deals_each_card_once(store_factory: StoreFactory) -> None:
    store = store_factory()
    pool = [f"card-{i:03d}" for i in range(200)]
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def deal(_: int) -> None:
        for _ in range(25):
            dealt = store.deal_card("h1", pool)
            with lock:
                results.append(dealt)

    run_threads(8, deal)
    assert len(results) == 200
    assert sorted(card for card, _ in results) == pool
    assert not any(reshuffled for _, reshuffled in results)


def test_concurrent_deal_card_across_instances(store_factory: StoreFactory) -> None:
    stores = [store_factory() for _ in range(4)]
    pool = [f"card-{i:03d}" for i in range(100)]
    results: list[str] = []
    lock = threading.Lock()

    def deal(index: int) -> None:
        for _ in range(25):
            card, _ = stores[index].deal_card("h1", pool)
            with lock:
                results.append(card)

    run_threads(4, deal)
    assert sorted(results) == pool


def test_concurrent_appreciations_are_all_kept(store: Store) -> None:
    store.update("h1", journal_opt_in=True)

    def add(index: int) -> None:
        for n in range(20):
            store.add_appreciation(
                "h1",
                Appreciation("Sam", "Alex", f"{index}-{n}", T0 + timedelta(seconds=index * 20 + n)),
            )

    run_threads(8, add)
    saved = store.appreciations_since("h1", T0)
    assert len(saved) == 160
    assert len({a.text for a in saved}) == 160


def test_concurrent_updates_of_different_fields_lose_nothing(store: Store) -> None:
    fields = ["first_name", "second_name", "last_category", "last_card_id"]

    def write(index: int) -> None:
        field = fields[index % len(fields)]
        for n in range(15):
            store.update("h1", **{field: f"{field}-{n}"})
            store.record_visit("h1")

    run_threads(8, write)
    household = store.load("h1")
    for field in fields:
        assert getattr(household, field) == f"{field}-14"
    assert household.visits == 8 * 15


def test_concurrent_hugs_are_all_counted(store: Store) -> None:
    def hug(index: int) -> None:
        for n in range(10):
            store.record_hug("h1", 10, T0 - timedelta(minutes=index * 10 + n))

    run_threads(8, hug)
    assert store.record_hug("h1", 10, T0) == 81
