"""Improve: a rough idea in, a structured prompt out, recorded in the history (or kept in the outbox)."""

from __future__ import annotations

import streamlit as st

from dashboard import _ui, composition
from dashboard._context import app_context, own_services
from dashboard._results import RESULTS_KEY, remember, render_result
from pipeline.errors import PipelineError
from store.record import BackendType

BACKEND_OPTIONS = [BackendType.FEW_SHOT.value, BackendType.ZERO_SHOT.value]
CHOSEN_KEY = "improve_chosen_model"
HISTORY_OFF_NOTE = "history is turned off (SQLITE_ENABLED=false). Set SQLITE_ENABLED=true and restart to keep them."
BACKEND_HELP = (
    "Few-shot shows the model curated example improvements first (usually better structure, a little slower); "
    "zero-shot sends the instruction alone."
)


def _how_to_configure() -> None:
    st.warning("**No language model is configured**, so prompts cannot be improved yet.", icon=":material/key_off:")
    st.markdown(
        "Set the model in a `.env` file in the directory you start the dashboard from (or in the environment), "
        "then restart the app. History, Analytics and Settings work without a model."
    )
    hosted, local = st.tabs(["Hosted provider", "Local server"])
    with hosted:
        st.markdown("Any [litellm](https://docs.litellm.ai/docs/providers) model string with the provider's key:")
        st.code("LLM_MODEL=openai/gpt-4o-mini\nOPENAI_API_KEY=sk-...", language="bash")
        st.code("LLM_MODEL=anthropic/claude-haiku-4-5\nANTHROPIC_API_KEY=sk-ant-...", language="bash")
    with local:
        st.markdown("Any OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp's server) on your machine:")
        st.code("LLM_MODEL=openai/qwen2.5\nLLM_API_BASE=http://127.0.0.1:11434/v1\n# LLM_API_KEY only if the server needs one", language="bash")
        st.code("LLM_MODEL=ollama_chat/qwen2.5\nLLM_API_BASE=http://127.0.0.1:11434", language="bash")


def _offer_local_servers() -> None:
    """Without LLM_MODEL: offer the models of the OpenAI-compatible servers found on the loopback."""
    servers = _local_servers()
    if not servers:
        return
    st.info("**A model server is running on this machine.** Use one of its models for this session:",
            icon=":material/lan:")
    for server in servers:
        for model in server.models[:5]:
            if st.button(f"Use {model} from {server.name}", key=f"use_{server.base_url}_{model}"):
                st.session_state[CHOSEN_KEY] = server.settings_for(model)
                st.rerun()


@st.cache_data(ttl=30, show_spinner="Looking for a model server on this machine…")
def _local_servers() -> list:
    from pipeline.probe import discover_local_servers

    return discover_local_servers()


def _with_chosen_model(config):
    """The settings with the model chosen on this page (this session only), if any."""
    chosen = st.session_state.get(CHOSEN_KEY)
    if config.llm_model or not chosen:
        return config
    return config.model_copy(update={"llm_model": chosen["LLM_MODEL"], "llm_api_base": chosen["LLM_API_BASE"]})


def _improve(context, config, idea: str, extra: str, backend: str) -> None:
    from dashboard._improve_run import run_with_progress
    from pipeline.service import improve  # DSPy is imported on the first improvement, not at page load

    own = context.services if not context.demo else own_services(context.user_settings)
    program, version = composition.program(backend, str(config.dspy_program_dir), config.dspy_fewshot_k)
    lm = composition.models(config).client()

    def call(on_attempt, cancel):
        return improve(
            idea, extra, backend, program=program, program_version=version, lm=lm, repo=own.repository,
            repo_error=own.unavailable, model_version=config.llm_model or "", outbox=own.outbox,
            breaker=own.breaker, on_attempt=on_attempt, cancel=cancel,
        )

    outcome = run_with_progress(call, label=f"{config.llm_model} ({backend})", total_timeout_s=config.llm_total_timeout_s)
    if outcome.saved or outcome.replayed:
        composition.data_version(str(config.sqlite_db_path)).bump()
    remember(outcome, not_stored=own.unavailable if own.history_off else None)


def main() -> None:
    context = app_context()
    config = _with_chosen_model(context.user_settings)
    st.title("Improve a prompt")
    st.caption("Turn a rough idea into a structured prompt: role, directive, framework and guardrails.")
    if context.history_off:
        st.info(f"**Improvements are shown, not stored:** {HISTORY_OFF_NOTE}", icon=":material/history_toggle_off:")
    elif context.demo:
        st.caption(":material/info: Improvements are saved to your own history, not to the demo database.")
    if not config.llm_model:
        _offer_local_servers()
        _how_to_configure()
        return
    chosen = st.session_state.get(CHOSEN_KEY)
    if chosen and not context.user_settings.llm_model:
        lines = "\n".join(f"{name}={value}" for name, value in chosen.items())
        st.caption("Using the model you chose for this session. To keep it, put this in `.env` and restart:")
        st.code(lines, language="bash")
    from dashboard._improve_run import take_cancelled

    if take_cancelled():
        st.warning("The last improvement was cancelled; nothing was recorded.", icon=":material/cancel:")

    default_backend = BackendType.FEW_SHOT.value if config.dspy_fewshot_enabled else BackendType.ZERO_SHOT.value
    with st.form("improve_form", border=True):
        idea = st.text_area(
            "Idea",
            key="improve_idea",
            height=110,
            placeholder="e.g. write a launch announcement for our new public API",
            help="At least 5 characters. Ctrl+Enter (⌘+Enter on a Mac) improves it.",
        )
        extra = st.text_area(
            "Context (optional)",
            key="improve_context",
            height=80,
            placeholder="Audience, constraints, tone, format…",
        )
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        backend = left.radio(
            "Backend",
            BACKEND_OPTIONS,
            index=BACKEND_OPTIONS.index(default_backend),
            key="improve_backend",
            horizontal=True,
            help=BACKEND_HELP,
        )
        right.caption(f"Model: `{_ui.model_label(config)}`")
        submitted = st.form_submit_button("Improve", type="primary", icon=":material/auto_fix_high:")

    failed = False
    if submitted:
        try:
            _improve(context, config, idea, extra, backend)
        except PipelineError as error:
            st.error(str(error), icon=":material/error:")
            failed = True

    results = st.session_state.get(RESULTS_KEY, [])
    # After a failed submission the last success is not this idea's result: it moves down to the session's
    # list instead of sitting under the error as if it were the answer.
    if failed:
        current, earlier = None, results
    else:
        current, earlier = (results[0] if results else None), results[1:]
    if current is not None:
        render_result(current)
    if earlier:
        st.subheader("Earlier in this session")
        for item in earlier:
            with st.expander(f"{_ui.plain_md(' '.join(item['original_idea'].split())[:90])} — {item['backend']}, {_ui.fmt_latency(item['latency_ms'])}"):
                render_result(item, compact=True)


main()
