"""Prompt Improver's composition root: settings, the command line, and the wiring of store, pipeline and dashboard."""
