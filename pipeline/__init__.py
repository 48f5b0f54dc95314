"""The DSPy side: signatures, zero-/few-shot modules, demonstrations, quality metric and the improve service."""
