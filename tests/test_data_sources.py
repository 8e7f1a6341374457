"""Operating data from JSON, CSV and SQLite: typed rows, and errors that name file, row and column."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from pipeline.sources.data import DataError, DataSpec, load_data

COLUMNS = {"closed_at": "datetime", "pair": "str", "pnl": "float", "win": "bool"}
ROWS = [
    {"closed_at": "2026-04-14T10:00:00Z", "pair": "ETH/USDT", "pnl": "-0.25", "win": "false"},
    {"closed_at": "2026-04-15T11:30:00+00:00", "pair": "APT/USDT", "pnl": "1,204.5", "win": "true"},
]


def test_json_csv_and_sqlite_give_the_same_typed_rows(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps({"trades": ROWS}))
    (tmp_path / "t.csv").write_text("closed_at,pair,pnl,win\n" + "".join(
        f'{r["closed_at"]},{r["pair"]},"{r["pnl"]}",{r["win"]}\n' for r in ROWS))
    with sqlite3.connect(tmp_path / "t.sqlite") as db:
        db.execute("create table trades (closed_at text, pair text, pnl text, win text)")
        db.executemany("insert into trades values (:closed_at, :pair, :pnl, :win)", ROWS)
    query = "select * from trades where closed_at >= :start order by closed_at"
    results = [load_data(DataSpec("trades", tmp_path / name, COLUMNS, query), {"start": "2026-04-13"})
               for name in ("t.json", "t.csv", "t.sqlite")]
    assert results[0] == results[1] == results[2]
    first, second = results[0]
    assert first["closed_at"] == dt.datetime(2026, 4, 14, 10, tzinfo=dt.UTC)
    assert first["pnl"] == -0.25 and first["win"] is False and second["pnl"] == 1204.5


def test_every_bad_value_is_named_by_file_row_and_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("closed_at,pair,pnl,win\nyesterday,ETH/USDT,abc,maybe\n2026-04-14T10:00:00,ETH/USDT,,true\n")
    with pytest.raises(DataError) as error:
        load_data(DataSpec("trades", path, COLUMNS), {})
    message = str(error.value)
    assert f"{path}: row 1: column 'closed_at': 'yesterday' is not a datetime" in message
    assert f"{path}: row 1: column 'pnl': 'abc' is not a float" in message
    assert f"{path}: row 1: column 'win': 'maybe' is not a bool" in message
    assert f"{path}: row 2: column 'pnl': missing" in message
    assert "4 bad value(s)" in message


@pytest.mark.parametrize("name,content,expected", [
    ("t.json", "{not json", "cannot read"),
    ("t.json", '{"trades": 5}', "expected a list of objects"),
    ("t.xml", "<a/>", "unknown data format"),
])
def test_unreadable_files_say_what_is_wrong(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=expected):
        load_data(DataSpec("trades", path, COLUMNS), {})


def test_missing_file_and_missing_query(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        load_data(DataSpec("trades", tmp_path / "none.csv", COLUMNS), {})
    sqlite3.connect(tmp_path / "t.sqlite").close()
    with pytest.raises(DataError, match="needs `query:`"):
        load_data(DataSpec("trades", tmp_path / "t.sqlite", COLUMNS), {})


def test_sqlite_is_opened_read_only(tmp_path):
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table trades (pair text)")
    with pytest.raises(DataError, match="readonly"):
        load_data(DataSpec("trades", path, {"pair": "str"}, "insert into trades values ('x')"), {})
