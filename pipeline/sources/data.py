"""Operating data: JSON, CSV or a SQLite query, read into typed rows.

Every value is checked against the column types the brief declares; all problems are reported
at once, each naming the file, the row and the column."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PipelineError

MAX_ROWS = 100_000
MAX_PROBLEMS = 20


class DataError(PipelineError):
    exit_code = 2


@dataclass(frozen=True)
class DataSpec:
    name: str
    path: Path
    columns: Mapping[str, str]  # column -> one of TYPES
    query: str | None = None  # SQLite only; may use :start and :end (ISO timestamps of the week)


def _to_float(value):
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return float(str(value).replace(",", "")) if isinstance(value, str) else float(value)


def _to_int(value):
    number = _to_float(value)
    if number != int(number):
        raise ValueError("not a whole number")
    return int(number)


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


TYPES: dict[str, Callable[[Any], object]] = {"str": str, "int": _to_int, "float": _to_float, "datetime": _to_datetime,
                                             "date": dt.date.fromisoformat, "bool": _to_bool}


def read_rows(spec: DataSpec, params: dict) -> list[dict]:
    """Raw rows (dicts of column -> value) from the file, before type checks."""
    suffix = spec.path.suffix.lower()
    try:
        if suffix == ".json":
            return _json_rows(spec)
        if suffix == ".csv":
            with spec.path.open(newline="", encoding="utf-8-sig") as fh:
                return list(csv.DictReader(fh))
        if suffix in (".sqlite", ".sqlite3", ".db"):
            return _sqlite_rows(spec, params)
    except FileNotFoundError:
        raise DataError(f"{spec.path}: data file not found (source {spec.name!r})",
                        hint="fix `path:` (relative to the brief file)") from None
    except (OSError, UnicodeDecodeError, csv.Error, json.JSONDecodeError, sqlite3.Error) as exc:
        raise DataError(f"{spec.path}: cannot read {spec.name!r}: {exc}", hint="check the file's format") from None
    raise DataError(f"{spec.path}: unknown data format {suffix!r}", hint="use .json, .csv or .sqlite")


def _json_rows(spec: DataSpec) -> list[dict]:
    data = json.loads(spec.path.read_text(encoding="utf-8"))
    rows = data.get(spec.name) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DataError(f"{spec.path}: expected a list of objects (or an object with key {spec.name!r} holding one)",
                        hint="see briefs/weekly-data.json for the shape")
    return rows


def _sqlite_rows(spec: DataSpec, params: dict) -> list[dict]:
    if not spec.query:
        raise DataError(f"{spec.path}: a SQLite source needs `query:`", hint="e.g. select * from trades")
    # Read-only: the operator's live database must never be written by a newsletter build.
    with sqlite3.connect(f"file:{spec.path}?mode=ro", uri=True) as connection:
        connection.row_factory = sqlite3.Row
        cursor = connection.execute(spec.query, {k: v for k, v in params.items() if f":{k}" in spec.query})
        return [dict(row) for row in cursor.fetchmany(MAX_ROWS + 1)]


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
            out[column] = TYPES[kind](row[column])
        except (ValueError, TypeError) as exc:
            problems.append(f"{spec.path}: row {number}: column {column!r}: {row[column]!r} is not a {kind} ({exc})")
    return out


def load_data(spec: DataSpec, params: dict) -> list[dict]:
    return typed_rows(spec, read_rows(spec, params))
