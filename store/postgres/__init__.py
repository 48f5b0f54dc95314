"""The PostgreSQL adapter of the store: a team's shared history behind one `DATABASE_URL`.

Holds the connection pool and error translation (`connection`), the numbered DDL (`schema`) and its
runner with an advisory lock (`migrations`), the prompt repository (`repository`, with retention in
`retention`) and the experiments repository (`experiments`). It may import `store`'s domain and port
modules (record, repository, experiments, errors, query_rules, timestamps) and psycopg; never the SQLite
adapter or DuckDB. Importing it opens nothing.
"""
