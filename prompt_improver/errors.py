"""Errors of the command line itself (our other errors live with the package that raises them)."""


class UsageError(Exception):
    """A command-line argument has an invalid value (a bad date, a missing file)."""
