"""Recorded Alexa request envelopes (tests/fixtures/requests) replayed over real HTTP
against the live webhook, each checked against tests/fixtures/requests/expectations.yaml."""

from __future__ import annotations

import json

import pytest

from tests.support.recorded import (
    EXPECTATIONS,
    FIXTURE_APP,
    FIXTURE_USER,
    FIXTURES,
    check_behaves,
    post_fixture,
    prepare_household,
)

pytestmark = pytest.mark.system  # recorded envelopes over real HTTP


def test_every_fixture_has_expectations() -> None:
    recorded = {p.name for p in FIXTURES.glob("*.json")}
    assert recorded == set(EXPECTATIONS)


def test_fixtures_are_shaped_like_alexa() -> None:
    for name in EXPECTATIONS:
        envelope = json.loads((FIXTURES / name).read_text())
        system = envelope["context"]["System"]
        assert envelope["version"] == "1.0"
        assert system["application"]["applicationId"] == FIXTURE_APP
        assert system["user"]["userId"] == FIXTURE_USER
        assert system["device"]["deviceId"] and system["apiEndpoint"]
        request = envelope["request"]
        assert request["requestId"].startswith("amzn1.echo-api.request.")
        assert request["timestamp"].endswith("Z")
        if request["type"].startswith("AlexaSkillEvent."):
            assert "session" not in envelope and "eventCreationTime" in request
        else:
            assert envelope["session"]["user"]["userId"] == FIXTURE_USER
            assert request["locale"] in {"en-US", "en-GB", "en-CA", "en-AU", "en-IN"}


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_fixture_behaves(webhook, name: str) -> None:
    expected = EXPECTATIONS[name]
    prepare_household(webhook.store, expected)
    check_behaves(post_fixture(webhook, name), expected)


def test_skill_disabled_forgets_the_household(webhook) -> None:
    post_fixture(webhook, "set_names.json")
    assert webhook.store.load(FIXTURE_USER).names == ("Sam", "Alex")
    post_fixture(webhook, "skill_disabled.json")
    assert webhook.store.load(FIXTURE_USER).names is None


def test_skill_enabled_keeps_the_household(webhook) -> None:
    post_fixture(webhook, "set_names.json")
    post_fixture(webhook, "skill_enabled.json")
    assert webhook.store.load(FIXTURE_USER).names == ("Sam", "Alex")


def test_stale_fixture_is_rejected_as_recorded(webhook) -> None:
    """Why the timestamps are refreshed: the recording as captured is stale."""
    body = (FIXTURES / "launch.json").read_bytes()
    status, answer = webhook.household(FIXTURE_USER).post_raw(body)
    assert status == 400, answer
