"""The Streamlit dashboard: `streamlit run dashboard/app.py` from the repository root.

- `app.py`: the router (`st.navigation` with each page's address spelled out) and the composition root.
- `views/`: one thin script per page (Improve, History, Analytics, Compare, Settings), run by the router.
  Not `pages/`: Streamlit would treat a folder of that name as its legacy auto-discovered pages.
- `composition.py`, `_context.py`: the cached collaborators and each session's view of them;
  `_queries.py`: the read side's cached calls to the analytics worker; `_ui.py`: what every page shares;
  `charts.py`, `compare_charts.py`, `filters.py`: pure functions (DataFrames, URL parameters) without
  Streamlit state; `exposure.py`: the warning for a server that listens beyond 127.0.0.1; the other
  `_*.py` modules: one page's parts each.

It may import `store` (the domain, the ports, the SQLite and PostgreSQL adapters, and from `store.analytics`
only its DuckDB-free client: `worker`, `api`, `errors`, `ranges`, `csv_cells`), `pipeline` and `prompt_improver`. It
never imports DuckDB: the app opens the history through `sqlite3` (see STYLE.md), and every analytics query
runs in the worker's own process.
"""
