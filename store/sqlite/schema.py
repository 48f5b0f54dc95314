"""The numbered schema migrations, keyed by `PRAGMA user_version`.

Migration N brings a database from version N-1 to N. Each runs in its own transaction (the runner
in `store/sqlite/migrations.py`); never edit a released migration, add a new one.
Tables are STRICT because DuckDB's sqlite scanner raises on loosely typed values.
"""

from store.search_query import tokenizer

BULK_WRITE_KEY = "search_bulk_write"  # app_settings key: the insert trigger stands aside (migration 8)

MIGRATIONS: tuple[str, ...] = (
    # 1: the prompt history table.
    """
    CREATE TABLE prompt_history (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        uid             TEXT    NOT NULL UNIQUE CHECK (length(uid) BETWEEN 1 AND 64),
        timestamp       TEXT    NOT NULL CHECK (timestamp GLOB
                            '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'),
        original_idea   TEXT    NOT NULL CHECK (length(original_idea) <= 20000),
        context         TEXT    NOT NULL DEFAULT '' CHECK (length(context) <= 20000),
        improved_prompt TEXT    NOT NULL CHECK (length(improved_prompt) BETWEEN 1 AND 100000),
        role            TEXT    NOT NULL DEFAULT '',
        directive       TEXT    NOT NULL DEFAULT '',
        framework       TEXT    NOT NULL DEFAULT '',
        guardrails      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(guardrails) AND json_type(guardrails) = 'array'),
        backend         TEXT    NOT NULL CHECK (backend IN ('zero-shot', 'few-shot')),
        confidence      REAL    CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
        reasoning       TEXT,
        latency_ms      REAL    CHECK (latency_ms IS NULL OR latency_ms >= 0),
        model_version   TEXT    NOT NULL DEFAULT '',
        program_version TEXT,
        quality         REAL    CHECK (quality IS NULL OR (quality >= 0 AND quality <= 1)),
        experiment_id   TEXT
    ) STRICT;
    CREATE INDEX idx_prompt_history_timestamp ON prompt_history (timestamp);
    CREATE INDEX idx_prompt_history_backend_timestamp ON prompt_history (backend, timestamp);
    CREATE INDEX idx_prompt_history_experiment ON prompt_history (experiment_id) WHERE experiment_id IS NOT NULL;
    """,
    # 2: settings shared by every session and the CLI (retention days, auto-prune), and a counter the
    # analytics read model watches to know when rows were deleted (it then rebuilds instead of appending).
    """
    CREATE TABLE app_settings (
        key   TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    INSERT INTO app_settings (key, value) VALUES ('prune_generation', '0');
    """,
    # 3: compare experiments. One row per experiment, one row per (item, repeat, backend) run; a
    # succeeded run points at the prompt_history record it produced (by uid, which survives the outbox).
    """
    CREATE TABLE experiments (
        id                        TEXT    NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
        name                      TEXT    NOT NULL DEFAULT '',
        created                   TEXT    NOT NULL CHECK (created GLOB
                                      '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'),
        eval_set_hash             TEXT    NOT NULL,
        model_version             TEXT    NOT NULL DEFAULT '',
        program_version_zero_shot TEXT,
        program_version_few_shot  TEXT,
        repeats                   INTEGER NOT NULL CHECK (repeats >= 1),
        status                    TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'partial', 'interrupted')),
        planned                   INTEGER NOT NULL DEFAULT 0 CHECK (planned >= 0),
        succeeded                 INTEGER NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
        failed                    INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
        -- the evaluation set as a JSON array of [idea, context] pairs, so a resume needs no file
        items                     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(items) AND json_type(items) = 'array')
    ) STRICT;
    CREATE INDEX idx_experiments_created ON experiments (created);
    CREATE TABLE experiment_runs (
        experiment_id TEXT    NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        item_index    INTEGER NOT NULL CHECK (item_index >= 0),
        idea          TEXT    NOT NULL,
        context       TEXT    NOT NULL DEFAULT '',
        repeat        INTEGER NOT NULL CHECK (repeat >= 0),
        backend       TEXT    NOT NULL CHECK (backend IN ('zero-shot', 'few-shot')),
        status        TEXT    NOT NULL CHECK (status IN ('succeeded', 'failed')),
        record_uid    TEXT,
        error         TEXT,
        updated       TEXT    NOT NULL,
        UNIQUE (experiment_id, item_index, repeat, backend),
        CHECK (status = 'failed' OR record_uid IS NOT NULL)
    ) STRICT;
    """,
    # 4: a covering index for the analytics read model's full load. SQLite stores rows whole, so reading
    # the analytic columns of every row read the whole table (1.47 GB at 1M rows); with every column the
    # load reads in one index (~110 MB), SQLite scans the index instead (1.8 s -> 1.0 s at 1M rows). It
    # starts with (timestamp, id), so it also serves every range query and every `ORDER BY timestamp, id`
    # the timestamp index served (id named explicitly: after other columns it would not order ties), and
    # that index is dropped: a save still maintains the same number of indexes.
    """
    CREATE INDEX IF NOT EXISTS idx_prompt_history_analytics ON prompt_history
        (timestamp, id, backend, model_version, framework, role, confidence, quality, latency_ms);
    DROP INDEX IF EXISTS idx_prompt_history_timestamp;
    """,
    # 5: which quality metric computed each record's quality (pipeline/quality.py METRIC_VERSION), so
    # Analytics and Compare never mix scores of different metrics silently and `rescore` knows what is
    # stale. Scores stored before are the first metric's. The analytics index gains it and experiment_id (the
    # read model loads both, to leave experiment runs out of History and Analytics); without them the load
    # would read the whole table again (see migration 4).
    """
    ALTER TABLE prompt_history ADD COLUMN metric_version INTEGER
        CHECK (metric_version IS NULL OR (metric_version >= 1 AND quality IS NOT NULL));
    UPDATE prompt_history SET metric_version = 1 WHERE quality IS NOT NULL AND metric_version IS NULL;
    DROP INDEX IF EXISTS idx_prompt_history_analytics;
    CREATE INDEX idx_prompt_history_analytics ON prompt_history
        (timestamp, id, backend, model_version, framework, role, confidence, quality, latency_ms, metric_version,
         experiment_id);
    """,
    # 6: the pairwise judge's verdicts, the judge cache of Compare experiments: one row per (pair, judge
    # model, backend shown as A), naming the two records judged. `choice` is set exactly when answered.
    """
    CREATE TABLE IF NOT EXISTS judge_verdicts (
        experiment_id TEXT    NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        item_index    INTEGER NOT NULL CHECK (item_index >= 0),
        repeat        INTEGER NOT NULL CHECK (repeat >= 0),
        judge_model   TEXT    NOT NULL CHECK (length(judge_model) >= 1),
        first_backend TEXT    NOT NULL CHECK (first_backend IN ('zero-shot', 'few-shot')),
        zero_shot_uid TEXT    NOT NULL,
        few_shot_uid  TEXT    NOT NULL,
        status        TEXT    NOT NULL CHECK (status IN ('answered', 'unparsed', 'failed')),
        choice        TEXT    CHECK (choice IS NULL OR choice IN ('A', 'B', 'tie')),
        reason        TEXT,
        error         TEXT,
        created       TEXT    NOT NULL CHECK (created GLOB
                          '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'),
        UNIQUE (experiment_id, item_index, repeat, judge_model, first_backend),
        CHECK ((status = 'answered') = (choice IS NOT NULL))
    ) STRICT;
    """,
    # 7: full-text search (History's search box) over the texts a user remembers, in an external-content
    # FTS5 table (the text is not stored twice) kept in step by triggers. Rows already stored are indexed
    # afterwards in batches by `store.sqlite.search_index.backfill` (minutes for a million rows, so not inside
    # this transaction): `search_backfill_end` is the last id to index, `search_backfill_done` how far it
    # got. A delete or update touches the index only for rows already in it (deleting absent content
    # from an external-content index corrupts it).
    """
    CREATE VIRTUAL TABLE IF NOT EXISTS prompt_history_fts USING fts5 (
        original_idea, context, improved_prompt, role, directive, guardrails,
        content = 'prompt_history', content_rowid = 'id', tokenize = "{TOKENIZER}"
    );
    INSERT INTO app_settings (key, value)
        SELECT 'search_backfill_end', CAST(coalesce(max(id), 0) AS TEXT) FROM prompt_history WHERE true
        ON CONFLICT (key) DO NOTHING;
    INSERT INTO app_settings (key, value) VALUES ('search_backfill_done', '0') ON CONFLICT (key) DO NOTHING;
    CREATE TRIGGER IF NOT EXISTS prompt_history_fts_insert AFTER INSERT ON prompt_history BEGIN
        INSERT INTO prompt_history_fts (rowid, original_idea, context, improved_prompt, role, directive, guardrails)
        VALUES (new.id, new.original_idea, new.context, new.improved_prompt, new.role, new.directive, new.guardrails);
    END;
    CREATE TRIGGER IF NOT EXISTS prompt_history_fts_delete AFTER DELETE ON prompt_history
    WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_done')
      OR old.id > (SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_end') BEGIN
        INSERT INTO prompt_history_fts (prompt_history_fts, rowid, original_idea, context, improved_prompt, role,
                                        directive, guardrails)
        VALUES ('delete', old.id, old.original_idea, old.context, old.improved_prompt, old.role, old.directive,
                old.guardrails);
    END;
    CREATE TRIGGER IF NOT EXISTS prompt_history_fts_update AFTER UPDATE ON prompt_history
    WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_done')
      OR old.id > (SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_end') BEGIN
        INSERT INTO prompt_history_fts (prompt_history_fts, rowid, original_idea, context, improved_prompt, role,
                                        directive, guardrails)
        VALUES ('delete', old.id, old.original_idea, old.context, old.improved_prompt, old.role, old.directive,
                old.guardrails);
        INSERT INTO prompt_history_fts (rowid, original_idea, context, improved_prompt, role, directive, guardrails)
        VALUES (new.id, new.original_idea, new.context, new.improved_prompt, new.role, new.directive, new.guardrails);
    END;
    """.replace("{TOKENIZER}", tokenizer()),
    # 8: a bulk write (`save_many`) indexes its batch in one INSERT ... SELECT (a third of the time of a
    # trigger per row, bench/bench_bulk_index.py): it sets `search_bulk_write` inside its own transaction, so
    # the insert trigger stands aside for that transaction only (no other connection ever sees the row; a
    # crash rolls it back). An update re-indexes a row only when an indexed text changes (a rescore of
    # quality no longer rewrites the index).
    f"""
    DROP TRIGGER IF EXISTS prompt_history_fts_update;
    CREATE TRIGGER prompt_history_fts_update
    AFTER UPDATE OF original_idea, context, improved_prompt, role, directive, guardrails ON prompt_history
    WHEN old.id <= (SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_done')
      OR old.id > (SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = 'search_backfill_end') BEGIN
        INSERT INTO prompt_history_fts (prompt_history_fts, rowid, original_idea, context, improved_prompt, role,
                                        directive, guardrails)
        VALUES ('delete', old.id, old.original_idea, old.context, old.improved_prompt, old.role, old.directive,
                old.guardrails);
        INSERT INTO prompt_history_fts (rowid, original_idea, context, improved_prompt, role, directive, guardrails)
        VALUES (new.id, new.original_idea, new.context, new.improved_prompt, new.role, new.directive, new.guardrails);
    END;
    DROP TRIGGER IF EXISTS prompt_history_fts_insert;
    CREATE TRIGGER prompt_history_fts_insert AFTER INSERT ON prompt_history
    WHEN NOT EXISTS (SELECT 1 FROM app_settings WHERE key = '{BULK_WRITE_KEY}') BEGIN
        INSERT INTO prompt_history_fts (rowid, original_idea, context, improved_prompt, role, directive, guardrails)
        VALUES (new.id, new.original_idea, new.context, new.improved_prompt, new.role, new.directive, new.guardrails);
    END;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
