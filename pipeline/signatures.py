"""The signature of the improver: its docstring is the instruction the model receives."""

from __future__ import annotations

from typing import Any

import dspy
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema

from pipeline.normalize import coerce_confidence, split_guardrails


class ConfidenceFloat(float):
    """A float that also parses loose answers ("85%", "0.85 (high)"); words become NaN.

    DSPy drops `Annotated` metadata from signature fields, so the leniency lives in the type. The model is
    still asked for a number (the field description says 0 to 1); `normalize_prediction` judges the value.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(coerce_confidence, core_schema.float_schema())

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict:
        return {"type": "number"}  # plain, as for `float`: strict structured-output modes accept it


class GuardrailList(list):
    """A list of strings that also parses one bulleted, numbered, semicolon-separated or JSON string."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            split_guardrails, core_schema.list_schema(core_schema.str_schema())
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict:
        return {"type": "array", "items": {"type": "string"}}


class ImprovePrompt(dspy.Signature):
    """Turn a rough idea into a complete, specific prompt that another language model can follow without
    asking anything back.

    Work like a senior prompt engineer:
    1. Decide who should answer: give a specific expert role with a domain and seniority (for example
       "senior data analyst specialising in subscription churn"), never just "assistant" or "AI".
    2. Write one imperative directive (start with a verb such as Write, Analyse, Design, Draft, Review)
       that names the idea's subject and the deliverable.
    3. Choose the prompting framework that fits the task and name it: CO-STAR (context, objective, style,
       tone, audience, response), RISEN (role, instructions, steps, end goal, narrowing), RTF (role, task,
       format), AIDA (attention, interest, desire, action), Chain-of-Thought (step-by-step reasoning), STAR
       (situation, task, action, result), or another well-known one (SCQA, PAS, SMART, IRAC, 5 Whys…).
    4. Write the improved prompt itself, organised by that framework: the role, the context (use everything
       the context input gives; state sensible assumptions where it is silent), the task broken into steps,
       the audience, tone and style, the exact output format (sections, length, tables or lists), and a
       quality bar. Keep every concrete detail of the idea; add specifics, not filler. Never leave template
       placeholders such as "[insert ...]", "<your ...>" or "TODO": choose a reasonable value instead.
    5. Add 3 to 7 concrete guardrails: checkable constraints (limits, things to avoid, facts not to invent,
       privacy or compliance rules, what to do when information is missing) — not vague virtues like
       "be clear".
    6. Give your confidence, a number between 0 and 1, that the prompt will get the user what they want.
    """

    original_idea: str = dspy.InputField(desc="The user's rough idea of what they want a model to do.")
    context: str = dspy.InputField(
        desc="Optional background: audience, constraints, tools, examples. May be empty."
    )
    improved_prompt: str = dspy.OutputField(
        desc="The complete improved prompt, ready to paste into a chat model: role, context, numbered steps, "
        "output format and quality bar, organised by the chosen framework; usually 400-2,500 characters."
    )
    role: str = dspy.OutputField(desc="The specific expert persona the prompt assigns, e.g. 'Senior B2B copywriter'.")
    directive: str = dspy.OutputField(
        desc="One imperative sentence stating the core task, starting with a verb and naming the subject."
    )
    framework: str = dspy.OutputField(
        desc="The name of the prompting framework used, e.g. CO-STAR, RISEN, RTF, AIDA, Chain-of-Thought, STAR."
    )
    guardrails: GuardrailList = dspy.OutputField(
        desc="3 to 7 concrete, checkable constraints, as a JSON list of strings."
    )
    confidence: ConfidenceFloat = dspy.OutputField(
        desc="How likely the prompt is to get the user what they want: a number between 0 and 1, e.g. 0.8."
    )
