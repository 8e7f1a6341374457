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
    with pytest.raises(DataError, match="does more than read"):
        load_data(DataSpec("trades", path, {"pair": "str"}, "insert into trades values ('x')"), {})


# -- numbers that would be silently wrong ---------------------------------------------------------
@pytest.mark.parametrize("raw", ["NaN", "nan", "inf", "-Infinity", "1e400", "1,5", "1.2.3", "12abc", "0x10"])
def test_numbers_that_are_not_finite_or_ambiguous_are_errors_naming_row_and_column(tmp_path, raw):
    path = tmp_path / "t.csv"
    path.write_text(f'pair,pnl\nETH,1.0\nAPT,"{raw}"\n')
    with pytest.raises(DataError) as caught:
        load_data(DataSpec("trades", path, {"pair": "str", "pnl": "float"}), {})
    assert f"{path}: row 2: column 'pnl': {raw!r} is not a float" in caught.value.message
    if raw == "1,5":
        assert 'set `decimal: ","` on the source' in caught.value.message


@pytest.mark.parametrize("text", ['[{"pnl": NaN}]', '[{"pnl": Infinity}]', '[{"pnl": -Infinity}]'])
def test_json_non_numbers_are_refused_not_read_as_floats(tmp_path, text):
    path = tmp_path / "t.json"
    path.write_text(text)
    with pytest.raises(DataError, match="is not a number JSON allows"):
        load_data(DataSpec("trades", path, {"pnl": "float"}), {})


def test_a_source_with_a_decimal_comma_reads_its_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('pnl,count\n"1,5",3\n"-1.204,25","1.000"\n')
    rows = load_data(DataSpec("trades", path, {"pnl": "float", "count": "int"}, decimal=","), {})
    assert rows == [{"pnl": 1.5, "count": 3}, {"pnl": -1204.25, "count": 1000}]


def test_thousands_separators_still_read_with_a_decimal_point(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('pnl\n"1,204.5"\n"-12,000"\n')
    assert [r["pnl"] for r in load_data(DataSpec("trades", path, {"pnl": "float"}), {})] == [1204.5, -12000.0]


def test_huge_integers_do_not_crash(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('[{"n": "1e400"}, {"n": 123456789012345678901234567890}]')
    with pytest.raises(DataError, match=r"row 1: column 'n': '1e400' is not a int \(not a finite number\)"):
        load_data(DataSpec("trades", path, {"n": "int"}), {})


def test_deeply_nested_json_is_an_error_not_a_recursion_crash(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataError, match="nested too deeply"):
        load_data(DataSpec("trades", path, {"n": "int"}), {})


def test_a_lone_surrogate_in_a_string_becomes_a_replacement_character(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('[{"pair": "ETH\\ud800USDT"}]')
    (row,) = load_data(DataSpec("trades", path, {"pair": "str"}), {})
    assert row["pair"] == "ETH\ufffdUSDT" and row["pair"].encode("utf-8")


def test_data_files_have_a_size_limit(tmp_path, monkeypatch):
    from pipeline.sources import data

    monkeypatch.setattr(data, "MAX_BYTES", 100)
    path = tmp_path / "t.csv"
    path.write_text("pnl\n" + "1.0\n" * 100)
    with pytest.raises(DataError, match="larger than"):
        load_data(DataSpec("trades", path, {"pnl": "float"}), {})


# -- SQLite: reads only, and not forever ----------------------------------------------------------
def sqlite_db(tmp_path):
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table trades (pair text)")
        db.execute("insert into trades values ('ETH')")
    return path


@pytest.mark.parametrize("query", [
    "vacuum into '{dir}/copy.sqlite'",
    "attach database '{dir}/new.sqlite' as other",
    "pragma writable_schema = 1",
    "select * from trades; drop table trades",
])
def test_queries_that_would_write_or_create_files_are_refused(tmp_path, query):
    path = sqlite_db(tmp_path)
    with pytest.raises(DataError):
        load_data(DataSpec("trades", path, {"pair": "str"}, query.format(dir=tmp_path)), {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.sqlite"]  # nothing created
    with sqlite3.connect(path) as db:
        assert db.execute("select count(*) from trades").fetchone() == (1,)


def test_a_recursive_cte_still_reads(tmp_path):
    path = sqlite_db(tmp_path)
    query = "with recursive n(x) as (select 1 union all select x + 1 from n where x < 3) select x as pair from n"
    assert [r["pair"] for r in load_data(DataSpec("trades", path, {"pair": "str"}, query), {})] == ["1", "2", "3"]


def test_a_query_that_never_ends_is_stopped(tmp_path, monkeypatch):
    from pipeline.sources import data

    monkeypatch.setattr(data, "QUERY_SECONDS", 0.3)
    path = sqlite_db(tmp_path)
    query = "with recursive n(x) as (select 1 union all select x + 1 from n) select max(x) as pair from n"
    with pytest.raises(DataError, match="ran past 0.3 s and was stopped"):
        load_data(DataSpec("trades", path, {"pair": "str"}, query), {})


@pytest.mark.parametrize("content, expected", [
    ("", "empty, not even a header row"),  # a failed export: not a week with no trades
    ("when,what\n", "the header has no column 'closed_at', 'pair', 'pnl', 'win'"),
])
def test_a_csv_without_its_columns_is_an_error_even_with_no_rows(tmp_path, content, expected):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=expected):
        load_data(DataSpec("trades", path, COLUMNS), {})


def test_a_csv_with_its_header_and_no_rows_is_an_empty_week(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("closed_at,pair,pnl,win\n")
    assert load_data(DataSpec("trades", path, COLUMNS), {}) == []


def test_a_json_object_in_a_text_column_is_an_error_not_its_repr(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{**ROWS[0], "pair": {"x": [1, 2]}}]))
    with pytest.raises(DataError, match="column 'pair': .* is not a str .a JSON object is not text"):
        load_data(DataSpec("trades", path, COLUMNS), {})
