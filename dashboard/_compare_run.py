"""Starting and resuming Compare experiments from the page: the evaluation-set chooser, the plan, the run.

The experiment runs in the script's own thread (the model calls in a pool of `concurrency` threads) with
a progress bar; leaving the page stops it, and it is then `interrupted` and can be resumed. The LM is the
composition root's, built with the response cache off: an experiment must measure the model.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import _compare_judge, composition
from dashboard._context import AppContext
from pipeline.errors import PipelineError
from store.errors import RepositoryError
from store.record import BackendType

SOURCES = {"default": "Default set", "upload": "Upload CSV or JSONL", "history": "Sample from history"}
SELECTED_KEY = "compare_experiment"
NOTICE_KEY = "compare_notice"


def _improver(context: AppContext) -> Any:
    from pipeline.experiments import ServiceImprover

    config = context.user_settings
    programs = {b: composition.program(b.value, str(config.dspy_program_dir), config.dspy_fewshot_k) for b in BackendType}
    return ServiceImprover(
        programs=programs,
        lm=composition.models(config).client(cache=False),  # never cached answers here
        repo=context.repo,
        model_version=config.llm_model or "",
        outbox=context.services.outbox,
        breaker=context.services.breaker,
    )


def _eval_set(context: AppContext) -> tuple[list | None, str | None]:
    """The chosen evaluation set, or None and the reason it cannot be used."""
    from pipeline.evalsets import InvalidEvalSet, default_eval_set, parse_eval_text, sample_from_history

    source = st.segmented_control(
        "Evaluation set", list(SOURCES), format_func=SOURCES.get, key="compare_source", default="default",
        required=True,
    ) or "default"
    try:
        if source == "default":
            items = default_eval_set()
            st.caption(f"{len(items)} realistic rough ideas shipped with Prompt Improver, across many domains; "
                       "none of them is a few-shot demonstration.")
        elif source == "upload":
            upload = st.file_uploader(
                "Evaluation file", type=["csv", "jsonl", "json"], key="compare_upload",
                help='JSONL: one {"idea": "...", "context": "..."} per line. CSV: a header row with `idea` and '
                     "`context` columns.",
            )
            if upload is None:
                return None, "Upload a CSV or JSONL file of ideas to use it."
            try:
                text = upload.getvalue().decode("utf-8")
            except UnicodeDecodeError:
                return None, f"{upload.name} is not UTF-8 text; save it as UTF-8 and upload it again."
            items = parse_eval_text(text, upload.name)
        else:
            left, right = st.columns(2)
            size = left.number_input("Ideas to sample", min_value=1, max_value=500, value=30, key="compare_sample_size")
            seed = right.number_input("Seed", min_value=0, value=0, key="compare_sample_seed",
                                      help="The same seed and history give the same sample.")
            items = sample_from_history(context.repo, int(size), int(seed))
            st.caption(f"{len(items)} distinct ideas sampled from your history (experiment runs left out).")
        return items, None
    except InvalidEvalSet as error:
        return None, str(error)


def new_experiment_panel(context: AppContext) -> None:
    """The form for a new experiment: evaluation set, repeats, concurrency, the planned calls, Start."""
    from pipeline.evalsets import InvalidEvalSet
    from pipeline.experiments import check_eval_set, plan_calls

    config = context.user_settings
    items, problem = _eval_set(context)
    if items is not None and config.llm_model:
        try:
            few_shot_program = composition.program("few-shot", str(config.dspy_program_dir), config.dspy_fewshot_k)[0]
            check_eval_set(items, few_shot_program)
        except InvalidEvalSet as error:
            items, problem = None, str(error)
    left, middle, right = st.columns(3)
    repeats = int(left.number_input("Repeats", min_value=1, max_value=20, value=1, key="compare_repeats",
                                    help="How many times each idea goes through each backend."))
    concurrency = int(middle.number_input("Concurrency", min_value=1, max_value=64, value=config.llm_concurrency,
                                          key="compare_concurrency", help="Model calls at once (LLM_CONCURRENCY)."))
    name = right.text_input("Name (optional)", key="compare_name", placeholder="e.g. gpt-4o-mini, k=4")
    if problem:
        st.error(problem, icon=":material/error:")
    if not config.llm_model:
        st.warning("**No language model is configured.** Set `LLM_MODEL` (see the Improve page) to run experiments; "
                   "existing experiments can still be read below.", icon=":material/key_off:")
    if items is not None:
        calls = plan_calls(items, repeats)
        target = (f"to `{config.llm_model}` with the response cache off" if config.llm_model
                  else "once a model is configured")
        judged = (f" Then the judge `{config.judge_model}` is asked about every pair in both orders: up to "
                  f"**{2 * len(items) * repeats:,} judge calls**." if config.judge_model else "")
        st.info(f"This experiment will make **{calls:,} model calls**: {len(items)} ideas × {repeats} "
                f"repeat{'s' if repeats != 1 else ''} × 2 backends, {concurrency} at a time, {target}.{judged}",
                icon=":material/calculate:")
    start = st.button("Start experiment", key="compare_start", type="primary", icon=":material/play_arrow:",
                      disabled=items is None or not config.llm_model)
    if start and items is not None:
        result = run_with_progress(context, items=items, repeats=repeats, name=name, concurrency=concurrency)
        if result is not None:
            st.session_state[SELECTED_KEY] = result.experiment.id


def run_with_progress(context: AppContext, *, concurrency: int, items: list | None = None, repeats: int | None = None,
                      name: str = "", experiment_id: str | None = None) -> Any | None:
    """Run or resume an experiment with a progress bar. What happened is left in `st.session_state[NOTICE_KEY]`
    as `(kind, message)` for the page to show (it survives a rerun). None when it could not run."""
    from pipeline.experiments import run_experiment
    bar = st.progress(0.0, text="Starting the experiment…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"{done:,} of {total:,} runs done")

    experiments = context.services.experiments
    try:
        _compare_judge.judge_lm(context)  # a judge that cannot be used stops the experiment before any call
        improver = _improver(context)
        result = run_experiment(experiments, items=items, repeats=repeats, name=name, improve_one=improver,
                                concurrency=concurrency, progress=progress, experiment_id=experiment_id,
                                **improver.versions)
    except (PipelineError, RepositoryError) as error:
        bar.empty()
        st.session_state[NOTICE_KEY] = ("error", f"The experiment could not run: {error}")
        return None
    finally:
        context.changed()  # runs were stored even when it stopped part-way
    bar.empty()
    _compare_judge.judge_with_progress(context, result.experiment.id, concurrency)
    if result.failed:
        st.session_state[NOTICE_KEY] = (
            "warning", f"{result.failed} of {result.attempted} runs failed and are counted below; "
                       "Resume runs only them again.")
    else:
        st.session_state[NOTICE_KEY] = ("success", f"{result.attempted} runs done, none failed.")
    return result
