"""The pairwise judge on the Compare page: its numbers beside the rubric's, asking it, and its answers per pair.

With JUDGE_MODEL set, a second model is asked about every pair of an experiment in both orders (after the
runs, or with the button for an experiment judged partly or not at all); without it the page says how to
enable it and nothing else changes. Verdicts are stored, so asking again asks only what is missing.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import _compare_data as data
from dashboard._context import AppContext
from dashboard._ui import plain_md
from pipeline.errors import PipelineError
from store.errors import RepositoryError

NOTICE_KEY = "compare_judge_notice"
HOW_TO_ENABLE = (
    "**Pairwise judge: off.** Set `JUDGE_MODEL` (with `JUDGE_API_BASE` and `JUDGE_API_KEY` for a local or "
    "other server) and a second model will judge every pair in both orders; its few-shot win rate, position "
    "consistency and agreement with the rubric then appear here, beside the rubric's."
)


def judge_lm(context: AppContext) -> Any | None:
    """The judge's DSPy LM from the user's settings (built per call: cheap, and it holds no connection), or None
    without JUDGE_MODEL.

    Raises:
        ModelNotConfigured: JUDGE_MODEL cannot be used (the message names it).
    """
    from dashboard import composition

    # Not the improving model's client (structured output, our own attempts): the judge is a plain `dspy.LM`
    # used inside `dspy.context`.
    return composition.models(context.user_settings).judge()


def judge_with_progress(context: AppContext, experiment_id: str, concurrency: int) -> None:
    """Ask the judge what it has not answered about the experiment, with a progress bar; the outcome is left in
    `st.session_state[NOTICE_KEY]` as `(kind, message)`. Nothing without JUDGE_MODEL."""
    from pipeline.judge import ServiceJudge
    from pipeline.judging import judge_experiment

    model = context.user_settings.judge_model
    if not model:
        return
    bar = st.progress(0.0, text=f"Asking the judge ({model})…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"{done:,} of {total:,} judge questions answered")

    try:
        result = judge_experiment(
            context.services.experiments, experiment_id,
            judge_one=ServiceJudge(lm=judge_lm(context)), judge_model=model, concurrency=concurrency,
            progress=progress)
    except (PipelineError, RepositoryError) as error:
        st.session_state[NOTICE_KEY] = ("error", f"The judge could not run: {error}")
        return
    finally:
        bar.empty()
        context.changed()
    if result.failed:
        st.session_state[NOTICE_KEY] = (
            "warning", f"{result.failed} of {result.attempted} judge calls failed (first: {result.errors[0]}); "
                       "ask the judge again to retry only them.")
    elif result.attempted:
        st.session_state[NOTICE_KEY] = ("success", f"The judge answered {result.attempted} question(s).")


def _rate(value: float | None, low: float | None = None, high: float | None = None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" + (f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else "")


def section(context: AppContext, view: dict[str, Any], concurrency: int) -> None:
    """The rubric's wins beside the judge's, the judge's consistency and agreement, what it left out, and a
    button to ask it the missing questions."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        getattr(st, notice[0])(notice[1])
    summary = view["summary"]
    judge = summary.get("judge")
    if judge is None:
        st.caption(HOW_TO_ENABLE)
        return
    st.markdown("**Rubric and judge** — per idea: which backend's output was better")
    table = data.rubric_and_judge(summary)
    table["Few-shot win rate [95% CI]"] = [_rate(r["Win rate"], r["95% CI low"], r["95% CI high"])
                                           for r in table.to_dict("records")]
    st.dataframe(table[["Source", "Few-shot wins", "Ties", "Zero-shot wins", "Few-shot win rate [95% CI]"]],
                 hide_index=True, width="stretch", key="compare_judge_table")
    left, right = st.columns(2)
    left.metric("Judge position consistency", _rate(judge["consistency"]),
                help="Pairs whose two answers (each backend shown first once) named the same side",
                border=True)
    left.caption(f"{judge['consistent_pairs']} of {judge['judged_pairs']} pairs; 95% CI "
                 f"{_rate(judge['consistency'], judge['consistency_low'], judge['consistency_high'])}")
    right.metric("Judge agrees with the rubric", _rate(judge["agreement"]),
                 help="Ideas where the judge and the quality score preferred the same side (or both tied)",
                 border=True)
    right.caption(f"{judge['agreeing_items']} of {judge['rubric_items']} ideas; 95% CI "
                  f"{_rate(judge['agreement'], judge['agreement_low'], judge['agreement_high'])}")
    st.caption(
        f"Judge `{judge['model']}`. Each pair is asked twice, each backend shown first once; a win needs both "
        "answers to agree, anything else is a tie. Win rates leave ties out (a tie is no evidence for either "
        "side); repeats of an idea count once."
        + (f" Not counted: {judge['not_counted']} — each answer is shown per idea below." if judge["not_counted"] else "")
    )
    missing = sum(row.get(f"judge_{key}_first") in (None, "failed") for row in view["rows"]
                  if row.get("judge_outcome") == "pending" for key in ("zero_shot", "few_shot"))
    if context.user_settings.judge_model == judge["model"] and missing > 0:
        if st.button(f"Ask the judge the {missing:,} missing question(s)", key="compare_judge_run",
                     icon=":material/gavel:"):
            judge_with_progress(context, summary["experiment_id"], concurrency)
            st.rerun()


def pair_caption(row: dict[str, Any]) -> str | None:
    """The judge's two answers about one pair, for the drill-down (None without a judge)."""
    if "judge_outcome" not in row:
        return None
    parts = []
    for key, label in (("zero_shot", "zero-shot shown first"), ("few_shot", "few-shot shown first")):
        said = row.get(f"judge_{key}_first") or "not asked yet"
        reason = row.get(f"judge_note_{key}_first")
        parts.append(f"{label}: **{said}**" + (f" — {plain_md(reason)}" if reason else ""))
    return f"Judge: **{row['judge_outcome']}** ({' · '.join(parts)})"
