"""Errors of the pipeline. DSPy and litellm errors are translated into these at the service boundary,
so the CLI and the dashboard catch only our own classes and never show a raw traceback."""


class PipelineError(Exception):
    """A prompt improvement could not be produced."""


class InvalidIdea(PipelineError, ValueError):
    """The idea or context is not acceptable input (too short, too long, NUL characters)."""


class ModelNotConfigured(PipelineError):
    """No language model is configured (LLM_MODEL is unset)."""


class ImprovementFailed(PipelineError):
    """The model call failed or its output could not be used; `excerpt` holds what the model said."""

    def __init__(self, message: str, excerpt: str | None = None) -> None:
        super().__init__(message if not excerpt else f"{message} — model output began: {excerpt!r}")
        self.excerpt = excerpt


class AnswerTruncated(ImprovementFailed):
    """The model's answer was cut at the token limit before it was complete."""

    def __init__(self, max_tokens: object, setting: str = "LLM_MAX_TOKENS", text: str = "") -> None:
        from pipeline.normalize import excerpt

        super().__init__(
            f"the model's answer was cut at the token limit ({setting}={max_tokens}) before it was complete; "
            f"raise {setting} or use a model that answers more briefly",
            excerpt=excerpt(text) if text.strip() else None,
        )
        self.max_tokens = max_tokens


class ImprovementCancelled(PipelineError):
    """The user cancelled the improvement while it waited for the model; nothing was recorded."""
