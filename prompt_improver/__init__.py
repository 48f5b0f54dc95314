"""Prompt Improver's entry points and what they share: settings (`settings.py`), the one builder of their
collaborators (`services.py`: `build_services(settings)`, with `models.py` for settings -> language models,
`wiring.py` for opening the store, `stored_settings.py` for the settings kept in the database), the command
line (`cli.py`, `commands/`) and tools such as the demo-data generator. It may import `store` and `pipeline`
(the pipeline only inside functions: DSPy costs seconds to import); `dashboard` imports it (only `prompt-improver dashboard` reads one constant of `dashboard.exposure`).
"""
