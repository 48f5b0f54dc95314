"""The improver module: one ChainOfThought over `ImprovePrompt`, so each answer carries its reasoning."""

from __future__ import annotations

import dspy

from pipeline.signatures import ImprovePrompt


class PromptImprover(dspy.Module):
    """Zero-shot when used as built; few-shot once compiled with demonstrations (see `pipeline.programs`)."""

    def __init__(self) -> None:
        super().__init__()
        self.improve = dspy.ChainOfThought(ImprovePrompt)

    def forward(self, original_idea: str, context: str = "") -> dspy.Prediction:
        """Improve one idea. Run it inside `with dspy.context(lm=...)`; the prediction has every output
        field of `ImprovePrompt` plus `reasoning`."""
        return self.improve(original_idea=original_idea, context=context)
