"""The records download with a progress bar (History and Analytics).

A download button's data is built before the browser asks for it, and a callable given as its data runs
outside the page script, where no progress can be shown. So the download takes two clicks: *Prepare CSV*
asks the analytics worker to write the file, with a progress bar fed by the worker's progress messages
(rows written against the records the page counted), then *Download CSV* hands over the finished file's
bytes (the temporary file is removed as soon as it is read).
"""

from __future__ import annotations

import streamlit as st

from dashboard import _queries as queries
from dashboard import filters


def records_download(
    db_path: str, view: filters.ViewFilter, expected: int, *, key: str, file_name: str, what: str = "CSV",
    min_confidence: float | None = None, text: str | None = None,
) -> None:
    """Render *Prepare `what`* and, once clicked, the progress bar and the *Download `what`* button.

    Raises:
        RepositoryError, AnalyticsQueryError: from the worker, for the page to report.
    """
    if expected > queries.MAX_DOWNLOAD_ROWS:
        st.button(
            f"Prepare {what}", key=f"{key}_prepare", icon=":material/download:", disabled=True,
            help=(f"Downloads hold at most {queries.MAX_DOWNLOAD_ROWS:,} records: narrow the filters, or use "
                  "`prompt-improver export`."),
        )
        return
    if not st.button(f"Prepare {what}", key=f"{key}_prepare", icon=":material/download:",
                     help=f"Write the {expected:,} matching record(s) as CSV, then download the file."):
        return
    bar = st.progress(0.0, text=f"Writing the CSV: 0 of {expected:,} records")

    def show(share: float, rows: int) -> None:
        bar.progress(min(max(share, 0.0), 1.0), text=f"Writing the CSV: {min(rows, expected):,} of {expected:,} records")

    data, rows = queries.records_download(
        db_path, view.start, view.end, view.backend, view.model, min_confidence, text, view.include_experiments,
        expected=expected, progress=show,
    )
    bar.progress(1.0, text=f"CSV ready: {rows:,} records ({len(data) / 1e6:.1f} MB)")
    st.download_button(
        f"Download {what}", data, file_name=file_name, mime="text/csv", key=key, icon=":material/download:",
        on_click="ignore", type="primary",
    )
