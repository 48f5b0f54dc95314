"""The read side: DuckDB over the history, attached read-only, answering the dashboard and the CLI.

Two halves, split by whether they import DuckDB:
- DuckDB-free (safe in a process that opens the file through `sqlite3`): `api` (the named queries and
  `ExportedFile`), `worker` (the client that runs them in processes of their own: queries, and exports),
  `errors` (everything that crosses that process boundary), `ranges` (date ranges and filters),
  `history_file` (checks made without opening the file), `csv_cells` (the formula-neutralisation rule).
- DuckDB: `engine` (`Analytics`, one DuckDB instance), `extension` (loading the pinned extension wheels),
  `read_model`, `model_load` and `snapshot` (the columnar copy, how it is loaded, and its file),
  `postgres_source` (the same over `TYPE postgres`), `queries`, `histograms`, `calibration`, `page`,
  `records` (History's pages), `text_search` (History's full-text search on either engine), `reports`
  and `export` (CSV and Parquet), `download` (the dashboard's CSV as a temporary file), `utf8_text`.

It may import `store`'s domain modules, the SQLite schema's names (`store.sqlite.schema`,
`store.sqlite.search_index`), `store.postgres.urls` and `store.postgres.fts` (standard library only); it
never opens a `sqlite3` connection, and only the worker process or a CLI command that never opens the file
through `sqlite3` imports its DuckDB half.
Importing this package imports neither half.
"""
