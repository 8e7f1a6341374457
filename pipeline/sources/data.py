"""Operating data: JSON, CSV or a SQLite query, read into typed rows.

Every value is checked against the column types the brief declares; all problems are reported
at once, each naming the file, the row and the column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..checks.text import without_surrogates
from ..errors import PipelineError

MAX_ROWS = 100_000
MAX_PROBLEMS = 20
MAX_BYTES = 64 * 2**20
QUERY_SECONDS = 30


class DataError(PipelineError):
    exit_code = 2


@dataclass(frozen=True)
class DataSpec:
    name: str
    path: Path
    columns: Mapping[str, str]  # column -> one of TYPES
    query: str | None = None  # SQLite only; may use :start and :end (ISO timestamps of the week)
    decimal: str = "."  # the decimal mark of numbers written as text


_THOUSANDS = {".": re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"), ",": re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")}
_PLAIN = {".": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"), ",": re.compile(r"[+-]?(\d+(,\d*)?|,\d+)")}


def number_text(text: str, decimal: str) -> str:
    """A number as written in the data → Python's notation. "1,5" is refused unless the source says
    `decimal: ","`: read as 15 it would be a silently wrong number."""
    text, thousands = text.strip(), "," if decimal == "." else "."
    if _THOUSANDS[decimal].fullmatch(text):
        text = text.replace(thousands, "")
    elif not _PLAIN[decimal].fullmatch(text):
        hint = " (a decimal comma? set `decimal: \",\"` on the source)" if decimal == "." and "," in text else ""
        raise ValueError(f"not a number{hint}")
    return text.replace(",", ".")


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _to_float(value, decimal: str = ".") -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return _finite(float(number_text(value, decimal)) if isinstance(value, str) else float(value))


def _to_int(value, decimal: str = ".") -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = _to_float(value, decimal)
    if number != int(number):
        raise ValueError("not a whole number")
    return int(number)


def _to_str(value) -> str:
    if isinstance(value, dict | list):  # JSON nests; a str column holds text, not "{'x': [1, 2]}"
        raise ValueError(f"a JSON {'object' if isinstance(value, dict) else 'list'} is not text")
    # A lone surrogate (JSON "\ud800") cannot be written as UTF-8: it becomes U+FFFD here, not a crash later.
    return without_surrogates(str(value))


def _to_datetime(value):
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _to_bool(value):
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError("not true/false")


TYPES: dict[str, Callable[..., object]] = {"str": _to_str, "int": _to_int, "float": _to_float,
                                             "datetime": _to_datetime, "date": dt.date.fromisoformat, "bool": _to_bool}
TAKES_DECIMAL = {"int", "float"}  # converters that read the source's decimal mark


def read_rows(spec: DataSpec, params: dict) -> list[dict]:
    """Raw rows (dicts of column -> value) from the file, before type checks."""
    suffix = spec.path.suffix.lower()
    try:
        if suffix == ".json":
            return _json_rows(spec)
        if suffix == ".csv":
            return _csv_rows(spec)
        if suffix in (".sqlite", ".sqlite3", ".db"):
            return _sqlite_rows(spec, params)
    except FileNotFoundError:
        raise DataError(f"{spec.path}: data file not found (source {spec.name!r})",
                        hint="fix `path:` (relative to the brief file)") from None
    except (OSError, UnicodeDecodeError, csv.Error, json.JSONDecodeError, sqlite3.Error) as exc:
        raise DataError(f"{spec.path}: cannot read {spec.name!r}: {exc}", hint="check the file's format") from None
    raise DataError(f"{spec.path}: unknown data format {suffix!r}", hint="use .json, .csv or .sqlite")


def _csv_rows(spec: DataSpec) -> list[dict]:
    """The rows under the header, whose columns are checked even when no row follows: an empty file, or a header
    without the brief's columns, is a broken export, not a week with nothing in it."""
    reader = csv.DictReader(io.StringIO(_read_capped(spec.path).decode("utf-8-sig"), newline=""))
    rows = list(reader)
    if not reader.fieldnames:
        raise DataError(f"{spec.path}: empty, not even a header row (source {spec.name!r})",
                        hint="export the data again; a week with no rows still has the header line")
    missing = [column for column in spec.columns if column not in reader.fieldnames]
    if missing:
        raise DataError(f"{spec.path}: the header has no column {', '.join(map(repr, missing))} (source {spec.name!r}; "
                        f"it has {', '.join(map(repr, reader.fieldnames))})",
                        hint="fix the export, or the column names under sources.data in the brief")
    return rows


def _json_rows(spec: DataSpec) -> list[dict]:
    try:  # NaN and Infinity are not JSON; Python's parser takes them unless told not to
        data = json.loads(_read_capped(spec.path).decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise DataError(f"{spec.path}: JSON nested too deeply (source {spec.name!r})",
                        hint="data rows are a list of flat objects") from None
    except ValueError as exc:  # bad JSON, NaN/Infinity, or bytes that are not UTF-8
        raise DataError(f"{spec.path}: cannot read {spec.name!r}: {exc}", hint="check the file's format") from None
    rows = data.get(spec.name) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DataError(f"{spec.path}: expected a list of objects (or an object with key {spec.name!r} holding one)",
                        hint="see briefs/weekly-data.json for the shape")
    return rows


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DataError(f"{path}: larger than {MAX_BYTES // 2**20} MiB", hint="filter the data, or use a SQLite query")
    return data


def _sqlite_rows(spec: DataSpec, params: dict) -> list[dict]:
    if not spec.query:
        raise DataError(f"{spec.path}: a SQLite source needs `query:`", hint="e.g. select * from trades")
    # Read-only: the operator's live database must never be written by a newsletter build. mode=ro alone
    # still lets VACUUM INTO and ATTACH create files, so an authorizer allows reading and nothing else.
    connection = sqlite3.connect(f"file:{spec.path}?mode=ro", uri=True)
    try:
        connection.set_authorizer(_read_only)
        connection.set_progress_handler(_deadline(time.monotonic() + QUERY_SECONDS), 10_000)
        connection.row_factory = sqlite3.Row
        cursor = connection.execute(spec.query, {k: v for k, v in params.items() if f":{k}" in spec.query})
        return [dict(row) for row in cursor.fetchmany(MAX_ROWS + 1)]
    except sqlite3.DatabaseError as exc:
        if "interrupted" in str(exc):
            raise DataError(f"{spec.path}: the query of {spec.name!r} ran past {QUERY_SECONDS} s and was stopped",
                            hint="make the query cheaper (an index, a LIMIT, no unbounded recursion)") from None
        if "authoriz" in str(exc):  # "not authorized" or "authorization denied", by statement
            raise DataError(f"{spec.path}: the query of {spec.name!r} does more than read: {exc}",
                            hint="a data query may only SELECT (no ATTACH, VACUUM, PRAGMA or writes)") from None
        raise
    finally:
        connection.close()


# The authorizer's allow-list: reading rows and calling functions; SQLITE_RECURSIVE for WITH RECURSIVE.
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}


def _read_only(action: int, *args) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


def _deadline(until: float) -> Callable[[], int]:
    return lambda: int(time.monotonic() > until)  # non-zero interrupts the query


def typed_rows(spec: DataSpec, rows: list[dict]) -> list[dict]:
    if len(rows) > MAX_ROWS:
        raise DataError(f"{spec.path}: more than {MAX_ROWS} rows in {spec.name!r}", hint="filter it with a query")
    problems: list[str] = []
    typed: list[dict] = []
    for number, row in enumerate(rows, start=1):
        typed.append(typed_row(spec, row, number, problems))
    if problems:
        more = [f"... and {len(problems) - MAX_PROBLEMS} more"] if len(problems) > MAX_PROBLEMS else []
        shown = problems[:MAX_PROBLEMS] + more
        raise DataError(f"{spec.path}: {len(problems)} bad value(s) in {spec.name!r}:\n" + "\n".join(shown),
                        hint="fix the data, or the column types under sources.data in the brief")
    return typed


def typed_row(spec: DataSpec, row: dict, number: int, problems: list[str]) -> dict:
    out = {}
    for column, kind in spec.columns.items():
        if row.get(column) is None or (row[column] == "" and kind != "str"):
            problems.append(f"{spec.path}: row {number}: column {column!r}: missing")
            continue
        try:
            convert = TYPES[kind]
            out[column] = convert(row[column], spec.decimal) if kind in TAKES_DECIMAL else convert(row[column])
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append(f"{spec.path}: row {number}: column {column!r}: {row[column]!r} is not a {kind} ({exc})")
    return out


def load_data(spec: DataSpec, params: dict) -> list[dict]:
    return typed_rows(spec, read_rows(spec, params))
