"""The AWS Lambda entry point, called the way the Lambda runtime calls it (the parsed event,
a context) with the recorded Alexa envelopes, against a real SQLite file. AWS itself cannot
be reached from here: what is not tested is the runtime's own plumbing (the JSON in and out
and the Alexa Skills Kit trigger), which adds nothing our code decides."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import skill.doors.lambda_handler
from skill.store import Cipher
from skill.store.crypto import key_text
from skill.store.sqlite import SQLiteStore
from tests.support.alexa import check_alexa_limits
from tests.support.recorded import (
    EXPECTATIONS,
    FIXTURE_APP,
    FIXTURE_USER,
    check_behaves,
    load_fixture,
    prepare_household,
)

KEY = bytes(range(32))  # the function's CLOSER_DATA_KEY in these tests


class LambdaContext:
    """The attributes of the runtime's context object; the handler needs none of them."""

    function_name = "closer-together"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 7000


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "closer.sqlite3"


@pytest.fixture
def fn(db: Path, monkeypatch) -> Iterator[ModuleType]:
    """A fresh container: the module as Lambda imports it on a cold start."""
    monkeypatch.setenv("CLOSER_DB", str(db))
    monkeypatch.setenv("CLOSER_DATA_KEY", key_text(KEY))
    monkeypatch.setenv("CLOSER_SKILL_IDS", FIXTURE_APP)
    monkeypatch.delenv("CLOSER_DATABASE_URL", raising=False)
    yield importlib.reload(skill.doors.lambda_handler)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_recorded_request(fn: ModuleType, db: Path, name: str) -> None:
    expected = EXPECTATIONS[name]
    with _store(db) as store:
        prepare_household(store, expected)
    answer = fn.handler(load_fixture(name), LambdaContext())
    check_alexa_limits(answer)
    check_behaves(answer, expected)


def test_skill_is_built_once_per_container_and_keeps_state(fn: ModuleType, db: Path) -> None:
    fn.handler(load_fixture("set_names.json"), LambdaContext())
    first = fn.skill()
    fn.handler(load_fixture("launch.json"), LambdaContext())
    assert fn.skill() is first
    with _store(db) as store:
        assert store.load(FIXTURE_USER).names == ("Sam", "Alex")
    fn.handler(load_fixture("skill_disabled.json"), LambdaContext())
    with _store(db) as store:
        assert store.load(FIXTURE_USER).names is None


def test_another_skills_request_is_refused_and_changes_nothing(fn: ModuleType, db: Path) -> None:
    event = load_fixture("set_names.json")
    event["context"]["System"]["application"]["applicationId"] = "amzn1.ask.skill.someone-else"
    event["session"]["application"]["applicationId"] = "amzn1.ask.skill.someone-else"
    with pytest.raises(fn.RejectedRequest, match="unknown application id"):
        fn.handler(event, LambdaContext())
    with _store(db) as store:
        assert store.load(FIXTURE_USER).names is None


def test_without_a_database_setting_the_cold_start_says_what_to_set(monkeypatch) -> None:
    monkeypatch.delenv("CLOSER_DB", raising=False)
    monkeypatch.delenv("CLOSER_DATABASE_URL", raising=False)
    fn = importlib.reload(skill.doors.lambda_handler)
    with pytest.raises(RuntimeError, match="CLOSER_DATABASE_URL"):
        fn.handler(load_fixture("launch.json"), LambdaContext())


class _store:
    """A second connection to the function's SQLite file, as an operator would open it."""

    def __init__(self, path: Path) -> None:
        self.store = SQLiteStore(path, cipher=Cipher(KEY))

    def __enter__(self) -> SQLiteStore:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()
