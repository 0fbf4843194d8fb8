"""AWS Lambda entry point for publishers who host the skill there:
handler ``skill.doors.lambda_handler.handler``.

Alexa invokes a Lambda function directly, not over HTTPS, so there is no request signature
to check: the function's Alexa Skills Kit trigger (with skill ID verification) decides who
may invoke it, and, as ask-sdk's own Lambda handler does, each request's application id is
checked here against ``CLOSER_SKILL_IDS``. The skill is the same object the webhook serves,
built once per container and reused by every invocation it handles.

Household state needs ``CLOSER_DATABASE_URL`` (PostgreSQL): a function's disk is per
container and temporary, so SQLite there would forget households. ``CLOSER_DB`` is accepted
only as an explicit choice (tests, a single long-lived container).
"""

from __future__ import annotations

import logging

from ask_sdk_core.skill import CustomSkill

from skill import logs
from skill.app import configured_skill, invoke
from skill.config import Config
from skill.envelopes import VerificationError, check_application_id

log = logging.getLogger("closer.lambda")

_skill: CustomSkill | None = None
_allowed: frozenset[str] = frozenset()


class RejectedRequest(Exception):
    """The request is not for this skill; Lambda reports it to Alexa as a failure."""


def skill() -> CustomSkill:
    """The container's skill, built on first use."""
    global _skill, _allowed
    if _skill is None:
        logs.setup()
        config = Config.from_env()
        if not config.database_url and not config.db_path_chosen:
            raise RuntimeError("set CLOSER_DATABASE_URL=postgresql://...: a Lambda "
                               "container's disk is temporary, so SQLite would lose households")
        if not config.skill_ids:
            log.warning("CLOSER_SKILL_IDS is not set: any skill allowed by the function's "
                        "trigger can invoke it")
        _allowed = config.skill_ids
        _skill = configured_skill(config)
    return _skill


def handler(event: dict, context: object) -> dict:
    """Lambda's entry point: one Alexa request envelope in, its response envelope out."""
    current = skill()
    try:
        check_application_id(event, _allowed)
    except VerificationError as error:
        log.warning("rejected", extra={"reason": error.reason})
        raise RejectedRequest(error.reason) from None
    return invoke(current, event)
