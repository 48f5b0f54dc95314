"""The PostgreSQL adapter of the store: a team's shared history behind one `DATABASE_URL`.

Holds connections and error translation (`connection`), the pool renewed after an outage (`pool`), the
numbered DDL (`schema`) and its runner with an advisory lock (`migrations`), the prompt repository
(`repository`, with row mapping in `rows`, COPY batches in `bulk`, the port's substring search in `substring`,
retention in `retention`, re-scoring in `rescore`), full-text search (`fts`: the tsvector/tsquery literals
spelled from the search syntax's words, standard library only; `search_index`: the back-fill and the GIN
index) and the experiments repository (`experiments`). It may import `store`'s domain and port modules
(record, repository, experiments, errors, query_rules, search_query, timestamps) and psycopg; never the SQLite
adapter or DuckDB. Importing it opens nothing.
"""
