"""Sub-commands of `prompt-improver`, one module per area. Each module exposes `register(subparsers)`
and keeps heavy imports (DSPy, litellm, DuckDB, pandas) inside its handlers, so `--help` stays fast."""
