"""The SQLite adapter of the store: one history file on the user's machine.

Holds connections and row mapping with error translation (`connection`), the numbered DDL (`schema`), its
runner (`migrations`) and the upgrade of the pre-migration layout (`legacy_upgrade`), the prompt
repository (`repository`, with its transactions in `transactions` on per-thread connections from
`thread_connections`, retention and backups in `retention`, re-scoring in `rescore`, the WAL
checkpointer in `wal_keeper` and the FTS5 index's back-fill in `search_index`) and the experiments
repository (`experiments`). It may import `store`'s domain and port modules and the standard library's
`sqlite3`; never DuckDB, `store.analytics` or `store.postgres`. Importing it opens nothing.
"""
