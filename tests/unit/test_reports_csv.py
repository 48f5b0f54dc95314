"""CSV writing: OWASP formula neutralisation of text cells only, RFC 4180 quoting, CRLF lines.

An in-memory DuckDB query stands in for the worker's (no database file is opened here); the export a user
runs, end to end, is tested in tests/integration/test_analytics_cli.py."""

from __future__ import annotations

import csv

import duckdb

from store.analytics.reports import write_csv

PAYLOADS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"]


def written(tmp_path, sql: str, params=()) -> tuple[int, bytes]:
    path = tmp_path / "out.csv"
    rows = write_csv(duckdb.connect(), sql, list(params), path)
    return rows, path.read_bytes()


def test_numbers_stay_numbers_even_when_negative_and_text_columns_are_neutralised(tmp_path):
    rows, data = written(tmp_path, "SELECT -2.5::DOUBLE AS delta, -3::BIGINT AS n, '-2+3' AS note, NULL::VARCHAR AS empty")
    assert rows == 1
    assert data == b"delta,n,note,empty\r\n-2.5,-3,'-2+3,\r\n"


def test_the_sql_rule_quotes_exactly_the_formula_prefixes_and_round_trips_through_the_csv_module(tmp_path):
    values = [*PAYLOADS, 'say "hi", then', "two\nlines", "crlf\r\ninside", "naïve ✓ 漢字", "plain", "'already", "a,b"]
    sql = "SELECT * FROM (SELECT unnest(?::VARCHAR[]) AS text, generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i"
    rows, data = written(tmp_path, sql, [values, values])
    assert rows == len(values)
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        parsed = list(csv.reader(handle))
    assert parsed[0] == ["text", "i"]
    assert [row[0] for row in parsed[1:]] == [
        "'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=x", "'\r=x", 'say "hi", then', "two\nlines", "crlf\r\ninside",
        "naïve ✓ 漢字", "plain", "'already", "a,b",
    ]
    assert b'"say ""hi"", then"' in data  # RFC 4180: quoted, inner quotes doubled
    assert data.count(b"\r\n") >= len(values) + 1


def test_a_column_name_with_a_quote_is_written_as_is(tmp_path):
    _, data = written(tmp_path, 'SELECT 1 AS "odd ""name"""')
    assert data.splitlines()[0] == b'"odd ""name"""'
