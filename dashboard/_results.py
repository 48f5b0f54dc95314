"""The result card of an improvement, and the session's list of its last few improvements."""

from __future__ import annotations

import json

import streamlit as st

from dashboard._ui import fmt_latency, fmt_score, plain_md

RESULTS_KEY = "improve_results"
KEEP = 5


def remember(outcome, *, not_stored: str | None = None) -> None:
    """Put an improvement outcome first in this session's list (plain data: session state outlives objects).

    Args:
        not_stored: why the record was deliberately not stored (history is off), or None.
    """
    item = outcome.record.to_dict()
    item["not_stored"] = not_stored
    item["saved"] = outcome.saved
    item["persistence_error"] = outcome.persistence_error
    item["kept_in_outbox"] = outcome.kept_in_outbox
    item["replayed"] = outcome.replayed
    results = [item] + list(st.session_state.get(RESULTS_KEY, []))
    st.session_state[RESULTS_KEY] = results[:KEEP]


def render_persistence(item: dict) -> None:
    """Where the record went: "Saved as #id", kept in the outbox and why, or not stored on purpose."""
    if item.get("not_stored"):
        st.info(f"Not stored: {item['not_stored']}. Copy the prompt above to keep it.", icon=":material/info:")
    elif item.get("saved") and item.get("id") is not None:
        replayed = item.get("replayed") or 0
        extra = f" — and {replayed:,} earlier record(s) from the outbox were stored too" if replayed else ""
        st.success(f"Saved as #{item['id']}{extra}", icon=":material/check_circle:")
    elif item.get("kept_in_outbox", True):
        reason = (item.get("persistence_error") or "the database did not take the record").rstrip(". ")
        # The pipeline's reason may already say where the record went and when it is replayed; say it once.
        tail = "" if "outbox" in reason else " It will be stored when the database is back."
        st.warning(f"Kept in the outbox: {reason}.{tail}", icon=":material/inbox:")
    else:
        # Neither stored nor queued (a full disk under both): this page holds the only copy.
        reason = (item.get("persistence_error") or "the database and the outbox both failed").rstrip(". ")
        st.error(f"Not saved anywhere: {reason}. Copy the prompt above or download it now; it is lost when "
                 "this session ends.", icon=":material/error:")
        record = {key: value for key, value in item.items() if key not in ("saved", "replayed", "kept_in_outbox", "not_stored")}
        st.download_button(
            "Download this improvement (JSON)", json.dumps(record, ensure_ascii=False, indent=2),
            file_name=f"prompt-improver-unsaved-{item['uid']}.json", mime="application/json",
            key=f"unsaved_{item['uid']}", icon=":material/download:",
        )


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def render_result(item: dict, *, compact: bool = False) -> None:
    """The result card: copyable prompt, its structure, scores, latency, program version and persistence."""
    with st.container(border=True, key=f"result_{item['uid']}"):
        if not compact:
            st.subheader("Improved prompt")
            # Which idea this answers: after several tries the card must not be mistaken for another's.
            st.caption(f"For: {plain_md(_one_line(item['original_idea'], 160))}")
        metrics = st.columns(4)
        metrics[0].metric("Confidence", fmt_score(item.get("confidence")), help="The model's own confidence (0–1).")
        metrics[1].metric(
            "Quality", fmt_score(item.get("quality")), help="The rubric score of the structured prompt (0–1)."
        )
        metrics[2].metric("Latency", fmt_latency(item.get("latency_ms")), help="Time spent in the model call.")
        metrics[3].metric("Backend", item["backend"])
        st.code(item["improved_prompt"], language=None, wrap_lines=True)
        left, right = st.columns(2)
        with left:
            # The model's text is shown as written: escaped, so "$500 to $1,000" is not set as LaTeX.
            st.markdown(f"**Role**  \n{plain_md(item['role'] or '–')}")
            st.markdown(f"**Directive**  \n{plain_md(item['directive'] or '–')}")
            st.markdown(f"**Framework**  \n{plain_md(item['framework'] or '–')}")
        with right:
            st.markdown("**Guardrails**")
            guardrails = item.get("guardrails") or []
            st.markdown("\n".join(f"- {plain_md(line)}" for line in guardrails) if guardrails else "–")
        with st.expander("Reasoning", expanded=False):
            st.markdown(plain_md(item["reasoning"]) if item.get("reasoning") else "*The model gave no reasoning.*")
        st.caption(
            f"Program version `{item.get('program_version') or '–'}` · model `{item.get('model_version') or '–'}` · "
            f"{item['timestamp'][:19].replace('T', ' ')} UTC"
        )
        render_persistence(item)
