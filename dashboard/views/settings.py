"""Settings: retention and pruning, database health, and the model configuration in force."""

from __future__ import annotations

import streamlit as st

from dashboard.filters import DAYS_MEANING
from dashboard import _queries as queries
from dashboard import _retention, _ui, composition
from dashboard._context import AppContext, app_context
from prompt_improver.stored_settings import MAX_RETENTION_DAYS, StoredSettings, store_setting
from pipeline.endpoint import mask_url
from pipeline.errors import PipelineError
from store.errors import RepositoryError

PRUNE_MESSAGE_KEY = "settings_prune_message"


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GB"


def mask_key(key: str | None) -> str:
    """An API key as "••••••••abcd" (only the last four characters), or "not set"."""
    if not key:
        return "not set"
    return "•" * 8 + key[-4:] if len(key) > 8 else "•" * 8


def _save_retention(context: AppContext) -> None:
    days = int(st.session_state["settings_retention_days"])
    try:
        store_setting(context.repo, "retention_days", days)
    except RepositoryError as error:
        st.session_state[PRUNE_MESSAGE_KEY] = ("error", f"The retention could not be saved: {error}")
        return
    st.session_state[PRUNE_MESSAGE_KEY] = ("success", f"Retention saved: keep {days:,} days.")


def _save_auto_cleanup(context: AppContext) -> None:
    enabled = bool(st.session_state["settings_auto_cleanup"])
    try:
        store_setting(context.repo, "auto_cleanup", enabled)
    except RepositoryError as error:
        st.session_state[PRUNE_MESSAGE_KEY] = ("error", f"The auto-prune choice could not be saved: {error}")


def _prune(context: AppContext) -> None:
    days = int(st.session_state["settings_retention_days"])
    try:
        result = _retention.prune(
            context.repo,
            context.db_path,
            days,
            backup=bool(st.session_state.get("settings_backup", True)),
            vacuum=bool(st.session_state.get("settings_vacuum", False)),
        )
    except (RepositoryError, OSError) as error:
        st.session_state[PRUNE_MESSAGE_KEY] = ("error", f"The prune failed, nothing was deleted: {error}")
        return
    finally:
        st.session_state["settings_confirm"] = False
    context.changed()
    parts = [f"Deleted {result.deleted:,} record(s) older than {days:,} days."]
    if result.backup is not None:
        parts.append(f"Backup written to `{result.backup}`.")
    if result.vacuumed:
        parts.append("The database was vacuumed.")
    st.session_state[PRUNE_MESSAGE_KEY] = ("success", " ".join(parts))


def _retention_section(context: AppContext) -> None:
    st.subheader("Retention")
    repo, config = context.repo, context.settings
    try:
        shared = StoredSettings.load(repo, config)
        stored_days, auto = shared.retention_days, shared.auto_cleanup
    except RepositoryError as error:
        st.error(str(error), icon=":material/error:")
        stored_days, auto = config.sqlite_retention_days, False
    with st.container(border=True):
        left, right = st.columns([2, 3], vertical_alignment="bottom")
        days = left.number_input(
            "Keep records for (days)",
            min_value=1,
            max_value=MAX_RETENTION_DAYS,
            value=stored_days,
            step=1,
            key="settings_retention_days",
            help="Stored in the database, so every dashboard session and the CLI's `prune` use the same value. "
            + DAYS_MEANING + " Records from before the first kept day (00:00 UTC) are deleted.",
        )
        right.button(
            "Save retention",
            key="settings_save_retention",
            on_click=_save_retention,
            args=(context,),
            disabled=int(days) == stored_days,
        )
        st.toggle(
            "Prune automatically when the app starts",
            value=auto,
            key="settings_auto_cleanup",
            on_change=_save_auto_cleanup,
            args=(context,),
            help="Off by default: deleting history should be a choice. Stored in the database (auto_cleanup).",
        )

        if int(days) != stored_days:
            st.caption(
                f":material/edit_note: Not saved: the stored retention is still {stored_days:,} days (what "
                "auto-prune and other sessions use). The preview and the delete below use the "
                f"{int(days):,} days shown."
            )
        plan = queries.prune_preview(str(context.db_path), context.version, int(days), repo)
        st.markdown(f"**Preview:** {plan.sentence()}")
        options = st.columns(2)
        options[0].checkbox("Back up the database first", value=True, key="settings_backup")
        options[1].checkbox("VACUUM afterwards (reclaims disk space)", value=False, key="settings_vacuum")
        confirmed = st.checkbox(
            f"I understand that {plan.count:,} record(s) will be permanently deleted",
            value=False,
            key="settings_confirm",
            disabled=plan.count == 0,
        )
        st.button(
            f"Delete {plan.count:,} record(s)",
            key="settings_prune",
            type="primary",
            icon=":material/delete:",
            disabled=not (confirmed and plan.count),
            on_click=_prune,
            args=(context,),
        )
    message = st.session_state.pop(PRUNE_MESSAGE_KEY, None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)


def _health_section(context: AppContext) -> None:
    st.subheader("Database health")
    config = context.settings
    outbox = context.services.outbox
    try:
        waiting = "off (history is off)" if outbox is None else f"{outbox.count():,} waiting"
    except (PipelineError, OSError) as error:
        waiting = "unreadable"
        st.warning(f"The outbox {config.outbox_path} cannot be read: {error}")
    state = context.services.breaker.snapshot()
    with st.container(border=True):
        if context.repo is None:  # the error box is already shown under Retention: once is enough
            why = "history is off" if context.history_off else "the database cannot be opened"
            st.caption(f":material/error: No health figures: {why} (see above).")
            health = None
        else:
            health = queries.health(str(context.db_path), context.version, context.repo)
        cells = st.columns(4)
        cells[0].metric("Records", f"{health.row_count:,}" if health else "–")
        cells[1].metric("File size", _human_bytes(health.file_bytes) if health else "–")
        cells[2].metric("WAL size", _human_bytes(health.wal_bytes) if health else "–")
        cells[3].metric("Schema version", health.schema_version if health else "–")
        cells = st.columns(4)
        check = health.quick_check if health else "–"
        cells[0].metric("Integrity (quick_check)", "ok" if check == "ok" else check)
        cells[1].metric("Journal mode", health.journal_mode if health else "–")
        cells[2].metric("Outbox", waiting, help=f"Records kept in {config.outbox_path}")
        breaker_text = state.state
        if state.seconds_until_probe:
            breaker_text += f" (probe in {state.seconds_until_probe:,.0f} s)"
        cells[3].metric(
            "Circuit breaker",
            breaker_text,
            help=f"{state.consecutive_failures} consecutive store failure(s); opens at {state.failure_threshold}.",
        )
        st.caption("Path")
        # health.path is the file, or the PostgreSQL URL with its password masked (DATABASE_URL).
        st.code(health.path if health else str(context.db_path), language=None)


def _model_section(context: AppContext) -> None:
    st.subheader("Model")
    config = context.user_settings
    with st.container(border=True):
        rows = {
            "Model (LLM_MODEL)": config.llm_model or "not configured",
            "API base (LLM_API_BASE)": mask_url(config.llm_api_base) if config.llm_api_base else "the provider's default",
            "API key (LLM_API_KEY)": mask_key(config.llm_api_key),
            "Timeout per attempt (LLM_TIMEOUT_S)": f"{config.llm_timeout_s:g} s",
            "Total wait (LLM_TOTAL_TIMEOUT_S)": f"{config.llm_total_timeout_s:g} s",
            "Retries (LLM_MAX_RETRIES)": str(config.llm_max_retries),
            "Temperature (LLM_TEMPERATURE)": f"{config.llm_temperature:g}",
            "Max tokens (LLM_MAX_TOKENS)": f"{config.llm_max_tokens:,}",
            "Response cache (LLM_CACHE)": "on" if config.llm_cache else "off",
            "Default backend (DSPY_FEWSHOT_ENABLED)": "few-shot" if config.dspy_fewshot_enabled else "zero-shot",
            "Few-shot demonstrations (DSPY_FEWSHOT_K)": str(config.dspy_fewshot_k),
        }
        st.table({"Setting": list(rows), "Value": list(rows.values())}, hide_index=True)
        if st.button("Test connection", key="settings_test_connection", disabled=not config.llm_model,
                     icon=":material/network_check:"):
            from dashboard._connection import check_connection

            with st.spinner("Probing the model (a few seconds at most)…"):
                result = check_connection(composition.models(config))
            if result.ok:
                st.success(f"Connected — the model answered {result.message!r} in {_ui.fmt_latency(result.latency_ms)}.")
            else:
                st.error(f"Connection failed: {result.message}", icon=":material/error:")
        if not config.llm_model:
            st.caption("Configure a model on the Improve page's instructions to enable the test.")


def main() -> None:
    context = app_context()
    st.title("Settings")
    st.caption("How long records are kept, the database's health, and the model in use.")
    if context.repo is not None:
        _retention_section(context)
    else:
        st.subheader("Retention")
        _ui.database_problem(context)
    _health_section(context)
    _model_section(context)


main()
