"""A minimal one-intent ask-sdk-core skill: the baseline the benchmark compares against."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

SENTENCE = "Hello from the minimal skill."


class Answer(AbstractRequestHandler):
    """LaunchRequest and HelloIntent: one fixed sentence."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input) or is_intent_name(
            "HelloIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.speak(SENTENCE).set_should_end_session(
            False).response


def minimal_skill() -> CustomSkill:
    builder = SkillBuilder()
    builder.add_request_handler(Answer())
    return builder.create()
