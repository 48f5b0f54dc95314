"""CSV writing: OWASP formula neutralisation of text cells only, RFC 4180 quoting, streaming in chunks.

An in-memory DuckDB result stands in for the worker's (no database file is opened here)."""

from __future__ import annotations

import csv
import io

import duckdb
import pytest

from store import reports
from store.reports import ExportTooLarge, neutralise, write_csv

PAYLOADS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_a_spreadsheet_would_execute_gets_a_leading_quote(payload):
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("text", ["plain", "a=b", "", "'quoted", "1-2", "é=mc²"])
def test_harmless_text_is_left_alone(text):
    assert neutralise(text) == text


def result(sql: str):
    return duckdb.connect().execute(sql)


def test_numbers_stay_numbers_even_when_negative_and_text_columns_are_neutralised():
    out = io.StringIO()
    rows = write_csv(result("SELECT -2.5::DOUBLE AS delta, -3::BIGINT AS n, '-2+3' AS note, NULL::VARCHAR AS empty"), out)
    assert rows == 1
    assert out.getvalue() == "delta,n,note,empty\r\n-2.5,-3,'-2+3,\r\n"


def test_quotes_commas_newlines_and_unicode_round_trip_through_the_csv_module():
    values = ['say "hi", then', "two\nlines", "crlf\r\ninside", "naïve ✓ 漢字", "=1+1", "\t=x", "\r=x"]
    sql = "SELECT * FROM (VALUES " + ", ".join(f"({i}, $${v}$$)" for i, v in enumerate(values)) + ") AS t(i, text)"
    out = io.StringIO(newline="")
    write_csv(result(sql), out)
    parsed = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert parsed[0] == ["i", "text"]
    assert [row[1] for row in parsed[1:]] == [neutralise(v) for v in values]
    assert '"say ""hi"", then"' in out.getvalue()  # RFC 4180: quoted, inner quotes doubled


def test_large_results_are_written_in_chunks_and_counted(monkeypatch):
    monkeypatch.setattr(reports, "CHUNK_ROWS", 1_000)
    out = io.StringIO()
    assert write_csv(result("SELECT range AS i, '=' || range AS formula FROM range(10_500)"), out) == 10_500
    lines = out.getvalue().split("\r\n")
    assert lines[1] == "0,'=0" and lines[10_500] == "10499,'=10499"


def test_a_download_refuses_more_rows_than_its_limit():
    with pytest.raises(ExportTooLarge, match="5"):
        write_csv(result("SELECT range AS i FROM range(6)"), io.StringIO(), max_rows=5)
