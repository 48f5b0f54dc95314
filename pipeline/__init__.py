"""The DSPy side: what turns an idea into a structured prompt, and how results are judged.

Holds the signature and modules (`signatures`, `modules`, `programs`), the shipped demonstrations
(`demonstrations`, `data/`), the model edge (`lm`, `endpoint`, `model_client`, `model_errors`,
`structured_output`, `structured_adapter`, `probe`, `pool`), normalisation and validation of model output
(`normalize`, `validation`, `truncation`, `degeneracy`), the quality score (`quality`, `metrics`,
`scoring`, `rescore`), the improve service with its outbox and circuit breaker (`service`, `outbox`,
`breaker`), experiments and the pairwise judge (`evalsets`, `experiments`, `experiment_results`, `judge`,
`judging`, `judge_summary`) and the statistics (`statistics/`).

It may import `store`'s domain and port modules (record, repository, experiments, judge_verdicts, errors,
timestamps, masking), DSPy, litellm, numpy and scipy; never an adapter (`store.sqlite`, `store.postgres`,
`store.analytics`), `prompt_improver` or `dashboard`: the composition roots hand it its collaborators.
"""
