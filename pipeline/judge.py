"""The pairwise judge: a model asked which of two structured prompts better serves the idea (A, B or tie).

    judge = ServiceJudge(lm=judge_lm)
    answer = judge("Plan a team offsite", "", candidate_a=zero_shot_record, candidate_b=few_shot_record)
    answer.choice  # "A", "B", "tie", or None when the judge's answer could not be read as one of them

The judge sees only what a user would read (role, directive, framework, guardrails, the prompt), never the
confidence or the rubric's quality, so it is an independent second opinion. The judge LM is used inside
`with dspy.context(lm=...)`, never `dspy.configure`. Which backend is shown as A is the caller's choice
(`pipeline.judging` asks both orders).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import dspy

from pipeline.errors import ModelNotConfigured, PipelineError
from pipeline.normalize import excerpt, translate_model_error
from pipeline.service import is_model_error
from store.judge_verdicts import TIE
from store.record import PromptHistory

logger = logging.getLogger(__name__)

_TIE_WORDS = frozenset({"tie", "tied", "draw", "equal", "equally", "neither", "both", "same"})
_LETTER = re.compile(r"^(?:candidate|option|prompt|output|answer|choice)?\s*([ab])\b")
# The improver's error hints name the LLM_* settings; for the judge the model and endpoint are JUDGE_*
# (timeout and retries are shared, so LLM_TIMEOUT_S / LLM_MAX_RETRIES stay as they are).
_JUDGE_SETTINGS = (("LLM_MODEL", "JUDGE_MODEL"), ("LLM_API_BASE", "JUDGE_API_BASE"), ("LLM_API_KEY", "JUDGE_API_KEY"))


class JudgeFailed(PipelineError):
    """The judge model could not be asked (HTTP error, timeout, refused credentials)."""


class JudgePair(dspy.Signature):
    """Two structured prompts were written for the same rough idea. Decide which one better serves the idea:
    which one, pasted into a chat model, would more reliably get the person what the idea asks for.

    Judge substance, not length or polish. Prefer the candidate whose prompt addresses the idea's actual
    subject and every detail of the idea and its context; whose role is a fitting expert; whose directive is
    a clear task; whose guardrails are concrete and relevant. Count against a candidate anything that would
    mislead the model: placeholders left unfilled, repeated lines, content about a different task, copied
    boilerplate, talk about being an AI. The order in which the candidates are shown means nothing.
    Answer "tie" only when neither is better in any way that matters for the idea.
    """

    original_idea: str = dspy.InputField(desc="The person's rough idea.")
    context: str = dspy.InputField(desc="Optional background for the idea; may be empty.")
    candidate_a: str = dspy.InputField(desc="The first structured prompt (role, directive, framework, guardrails, prompt).")
    candidate_b: str = dspy.InputField(desc="The second structured prompt, in the same layout.")
    reason: str = dspy.OutputField(desc="One or two sentences naming the difference that decided it.")
    preferred: str = dspy.OutputField(desc="Exactly one of: A, B, tie.")


class PairwiseJudge(dspy.Module):
    """One `Predict` over `JudgePair` (the reason field comes first, so the model explains before it picks)."""

    def __init__(self) -> None:
        super().__init__()
        self.judge = dspy.Predict(JudgePair)

    def forward(self, original_idea: str, context: str, candidate_a: str, candidate_b: str) -> dspy.Prediction:
        """Judge one ordered pair; run it inside `with dspy.context(lm=...)`."""
        return self.judge(original_idea=original_idea, context=context, candidate_a=candidate_a,
                          candidate_b=candidate_b)


def render_candidate(record: PromptHistory) -> str:
    """The structured prompt as the judge reads it: what a user sees, without confidence or quality."""
    guardrails = "\n".join(f"- {g}" for g in record.guardrails) or "(none)"
    return (f"Role: {record.role}\nDirective: {record.directive}\nFramework: {record.framework}\n"
            f"Guardrails:\n{guardrails}\nPrompt:\n{record.improved_prompt}")


def parse_choice(text: object) -> str | None:
    """`A`, `B` or `tie` from the judge's `preferred` field, or None when it is none of them.

    Lenient about decoration (`**B**`, `Candidate A.`, `"tie"`, `B is better`), strict about meaning:
    an answer that starts with anything else, or names both letters (`A or B`), is not a choice.
    """
    words = re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).split()
    if not words:
        return None
    if words[0] in _TIE_WORDS:
        return TIE
    match = _LETTER.match(" ".join(words))
    if match is None:
        return None
    letter = match.group(1)
    other = "b" if letter == "a" else "a"
    rest = words[words.index(letter) + 1:]
    if rest and rest[0] in _TIE_WORDS:  # "a tie": the article, not candidate A
        return TIE
    return None if other in rest else letter.upper()


@dataclass(frozen=True, slots=True)
class JudgeAnswer:
    """What the judge said: `choice` (`A`, `B`, `tie`, or None when unreadable), its reason, and the raw text."""

    choice: str | None
    reason: str | None
    raw: str


def _judge_error(error: BaseException) -> JudgeFailed:
    message = str(translate_model_error(error))
    for ours, theirs in _JUDGE_SETTINGS:
        message = message.replace(ours, theirs)
    return JudgeFailed(f"judge: {message}")


def _in_chain(error: BaseException, class_name: str) -> bool:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 10:
        if any(cls.__name__ == class_name for cls in type(current).__mro__):
            return True
        seen.append(current)
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True)
class ServiceJudge:
    """`judge_one` for `pipeline.judging.judge_experiment`, built by the composition roots.

    Attributes:
        lm: the judge's DSPy LM (built like the main LM, with the response cache off).
        program: the judge module (a fresh `PairwiseJudge` unless given).
    """

    lm: object
    program: dspy.Module = field(default_factory=PairwiseJudge)

    def __call__(self, idea: str, context: str, candidate_a: PromptHistory, candidate_b: PromptHistory) -> JudgeAnswer:
        """Ask the judge about one ordered pair.

        Returns:
            The answer; `choice` is None when the judge answered but not as A, B or tie (also when its
            answer lacked the fields altogether), with the start of what it said in `raw`.

        Raises:
            ModelNotConfigured: `lm` is None.
            JudgeFailed: the call failed (the message names the JUDGE_* setting to check).
        """
        if self.lm is None:
            raise ModelNotConfigured("no judge model is configured (set JUDGE_MODEL)")
        try:
            with dspy.context(lm=self.lm):
                prediction = self.program(original_idea=idea, context=context,
                                          candidate_a=render_candidate(candidate_a),
                                          candidate_b=render_candidate(candidate_b))
        except PipelineError:
            raise
        except Exception as error:
            if type(error).__name__ == "AdapterParseError":  # an answer without the fields: the judge's own doing
                raw = getattr(error, "lm_response", None) or str(error)
                return JudgeAnswer(None, None, excerpt(str(raw), 300))
            if not is_model_error(error):
                raise
            if _in_chain(error, "AdapterParseError"):
                # DSPy could not read the answer and its retry in JSON failed in transit (a timeout, a 5xx): a
                # failed call, asked again next time. (The improver's message would name the improver's fields.)
                failed = JudgeFailed(f"judge: its answer had no readable fields and the retry in JSON failed: "
                                     f"{type(error).__name__}: {excerpt(str(error), 300)}")
            else:
                failed = _judge_error(error)
            logger.info("judge call failed: %s", failed)
            raise failed from error
        raw = str(getattr(prediction, "preferred", "") or "")
        reason = str(getattr(prediction, "reason", "") or "").strip() or None
        return JudgeAnswer(parse_choice(raw), reason, excerpt(raw, 300))
