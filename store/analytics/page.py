"""Everything the dashboard's Analytics page shows, answered in one call.

Why: the page used to ask the worker five times (KPIs, time series, histograms, top frameworks, top
roles), and each request paid its own round trip, freshness sync and first/last-record lookup, and the
top lists two counts the KPIs already hold. One call syncs once, resolves the range once and counts the
range once. Every part equals what the separate query returns for the same arguments (the tests compare
them), so the page and the API cannot drift apart.
"""

from __future__ import annotations

from store.analytics.histograms import histograms_in
from store.analytics.queries import check_limit, count_in, date_range, distribution_in, kpis_in, timeseries_in


def analytics_page(
    con, start=None, end=None, *, backend=None, model=None, top_limit: int = 10, with_kpis: bool = True
) -> dict:
    """`{"kpis", "timeseries", "histograms", "top_frameworks", "top_roles"}` for one view.

    Each value is what `kpis`, `timeseries`, `histograms`, `top_frameworks(limit=top_limit)` and
    `top_roles(limit=top_limit)` return for the same range and filters. `with_kpis=False` leaves the
    KPIs out (for a caller that fetched them first, to show the tiles before the charts).
    """
    limit = check_limit(top_limit)
    rng = date_range(con, start, end)
    page = {}
    if with_kpis:
        page["kpis"] = kpis_in(con, rng, backend, model, with_previous=start is not None)
    # The share of a framework or role is of every record in the range, which the KPIs already counted.
    total = None if rng is None else page["kpis"]["count"] if with_kpis else count_in(con, rng, backend, model)
    page["timeseries"] = timeseries_in(con, rng, backend, model)
    page["histograms"] = histograms_in(con, rng, backend, model)
    page["top_frameworks"] = distribution_in(con, rng, "framework", "framework", backend, model, limit, total)
    page["top_roles"] = distribution_in(con, rng, "role", "role", backend, model, limit, total)
    return page
