"""Errors of the statistics engine. Each failure has one class; the message names the value at fault."""


class StatisticsError(Exception):
    """A statistic could not be computed from the given data."""


class InsufficientData(StatisticsError, ValueError):
    """There are too few usable observations (none after dropping missing values) to compute the statistic."""


class MismatchedPairs(StatisticsError, ValueError):
    """The zero-shot and few-shot sequences of a paired comparison have different lengths."""


class UnknownMetric(StatisticsError, ValueError):
    """A metric was given whose direction (higher or lower is better) is not known."""


class InvalidParameter(StatisticsError, ValueError):
    """An option is outside its allowed values (confidence level, resample count, statistic name, counts)."""


class InvalidSummary(StatisticsError, ValueError):
    """A summary was built with inconsistent fields (counts that do not add up, an inverted interval, p outside [0, 1])."""
