"""Loading a brief: strict YAML that remembers positions, the schema, the checks that span keys,
and every problem reported at once as FILE:LINE:COL: key.path: message."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import stat
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ..errors import BriefError, InputError
from .schema import SETTING_KEYS, Brief, LoadedBrief, MemorySettings, Section
from .yamlsource import YamlDocument, format_problem, load_yaml

MAX_BRIEF_BYTES = 1024 * 1024
MAX_PROBLEMS = 50  # listed; the rest are counted (100k unknown keys must not print 100k lines)


def cross_check(data: dict) -> list[tuple[tuple, str]]:
    """Checks that span keys: stage references and penalty windows. Works on raw data so its
    problems are reported together with the schema's."""
    stages = data.get("stages", {"draft": {}})
    if not isinstance(stages, dict):
        return []  # the schema reports it; every stage reference would only repeat it
    problems: list[tuple[tuple, str]] = [(("stages", name, "penalty_context"), problem) for name, stage in stages.items()
                                         if isinstance(stage, dict) and (problem := _window_problem(stage))]
    for index, section in enumerate(data.get("sections") or []):
        if isinstance(section, dict):
            problems += _section_problems(index, section, stages)
    return problems


def _section_problems(index: int, section: dict, stages: dict) -> list[tuple[tuple, str]]:
    stage = section.get("stage", "draft")
    if isinstance(stage, str) and stage not in stages:
        defined = f"use one of: {', '.join(stages)}" if stages else "define it under `stages:`"
        return [(("sections", index, "stage"), f"unknown stage {stage!r}; {defined}")]
    found = stages.get(stage) if isinstance(stage, str) else None
    base = found if isinstance(found, dict) else {}
    if section.get("type") == "news" and {**base, **section}.get("enable_thinking") is True:
        key = "enable_thinking" if "enable_thinking" in section else "stage"
        return [(("sections", index, key), "a news section is machine-parsed JSON: its stage needs "
                 "enable_thinking: false (reasoning would eat the budget and break the JSON)")]
    if "penalty_context" not in section and "max_tokens" not in section:
        return []  # the stage's own window was checked above
    problem = _window_problem({**base, **section})
    key = "penalty_context" if "penalty_context" in section else "max_tokens"
    return [(("sections", index, key), problem)] if problem else []


def _window_problem(settings: dict) -> str | None:
    window, cap = settings.get("penalty_context"), settings.get("max_tokens", 350)
    if type(window) is int and type(cap) is int and window < cap:
        return (f"penalty_context {window} is shorter than max_tokens {cap}: the penalty window must cover "
                "the whole section; raise penalty_context or leave it unset")
    return None


def _pydantic_problems(exc: ValidationError, doc: YamlDocument,
                       skip_missing: bool = False) -> list[tuple[tuple, tuple[int, int], str]]:
    """`skip_missing`: a key reported missing, or a value that reads as empty, may be on a line that was
    skipped as unreadable: those are left out."""
    return [(tuple(err["loc"]), _error_position(err, doc), _friendly(err)) for err in exc.errors()
            if not (skip_missing and (err["type"] == "missing" or err.get("input", "") is None))]


def _error_position(err: ErrorDetails, doc: YamlDocument) -> tuple[int, int]:
    # An unknown key is pointed at where the key is written, not at its (maybe nested) value.
    loc = tuple(err["loc"])
    return doc.key_position(loc) if err["type"] == "extra_forbidden" else doc.position(loc)


# Where each key may be written, for "did you mean" and "it belongs ..." hints on unknown keys.
_KEY_HOMES = {
    **dict.fromkeys(MemorySettings.model_fields, "under `memory:`"),
    **dict.fromkeys(Section.model_fields, "in a section"),
    **dict.fromkeys(SETTING_KEYS, "under `stages.<name>:` or in a section"),
    **dict.fromkeys(Brief.model_fields, "at the top level"),
}
_UNQUOTED = {"int_type": "a number", "float_type": "a number", "bool_type": "true or false",
             "date_type": "a date like 2026-11-23"}


def _friendly(err: ErrorDetails) -> str:
    if err["type"] == "extra_forbidden":
        return _unknown_key(str(err["loc"][-1]))
    if err["type"] == "missing":
        return "required key is missing; add it"
    if err["type"] == "string_pattern_mismatch" and tuple(err["loc"]) == ("slug",):
        return f"must be lowercase letters, digits and single hyphens, e.g. my-post (got {err['input']!r})"
    if err["type"] == "string_pattern_mismatch" and tuple(err["loc"]) == ("language",):
        return f"must be a language code such as en, de or pt-BR (got {err['input']!r})"
    if err["type"] in _UNQUOTED and isinstance(err.get("input"), str):
        return f"{err['msg']} (got {err['input']!r}): write {_UNQUOTED[err['type']]} without quotes"
    if err["type"] == "string_type" and isinstance(err.get("input"), bool | int | float):
        # YAML reads `heading: No` as false and `title: 2026` as a number.
        return f"{err['msg']} (got {err['input']!r}): put the text in quotes"
    message = err["msg"].removeprefix("Value error, ")
    return f"{message} (got {err.get('input')!r})" if "input" in err and not isinstance(err["input"], dict | list) else message


def _unknown_key(key: str) -> str:
    if key in _KEY_HOMES:  # a real key in the wrong place, e.g. max_tokens at the top level
        return f"not allowed here; {key} belongs {_KEY_HOMES[key]}"
    close = difflib.get_close_matches(key, _KEY_HOMES, n=1)
    return f"unknown key; did you mean {close[0]!r}?" if close else "unknown key; remove it or fix its spelling"


MAX_SKIPPED_LINES = 3


def readable_rest(text: str, filename: str, doc: YamlDocument) -> YamlDocument | None:
    """The brief with the lines YAML could not read commented out (at most 3), if the rest then parses as
    a mapping: its own problems are reported with the syntax error instead of one fix-and-rerun at a time."""
    lines = text.split("\n")
    for _ in range(MAX_SKIPPED_LINES):
        readable = [n - 1 for n in doc.unreadable_lines if 0 <= n - 1 < len(lines) and lines[n - 1].strip()
                    and not lines[n - 1].lstrip().startswith("#")]
        if not readable:  # not a syntax error (an unsafe or unbounded document is not read further)
            return None
        lines[readable[0]] = "#" + lines[readable[0]]
        doc = load_yaml("\n".join(lines), filename)
        if not doc.problems:
            return doc if isinstance(doc.data, dict) else None
    return None


def checked(doc: YamlDocument, skip_missing: bool = False) -> tuple[Brief | None, list]:
    """The brief a parsed mapping makes, and every cross-key and schema problem in it."""
    assert isinstance(doc.data, dict)
    keep_as_written(doc)
    problems = [(p, doc.position(p), m) for p, m in cross_check(doc.data)]
    try:
        return Brief.model_validate(doc.data), problems
    except ValidationError as exc:
        return None, problems + _pydantic_problems(exc, doc, skip_missing)


def key_line(path: Path, key: str) -> int | None:
    """The line a top-level key is written on (for messages about a brief that already loaded)."""
    doc = load_yaml(_decode(path, _read_capped(path)), str(path))
    where = doc.key_positions.get((key,))
    return where[0] if where else None


def load_brief(path: str | Path) -> LoadedBrief:
    """Load and validate a brief; raise BriefError listing every problem as file:line:col: path: msg."""
    path = Path(path)
    raw = _read_capped(path)
    text = _decode(path, raw)
    doc = load_yaml(text, str(path))
    problems = list(doc.problems)
    if doc.data is None and problems:  # a syntax error: the rest of the brief may still say what else is wrong
        rest = readable_rest(text, str(path), doc)
        problems += checked(rest, skip_missing=True)[1] if rest else []
    if not problems and not isinstance(doc.data, dict):
        problems.append(((), (1, 1), "a brief must be a YAML mapping (title:, sections:, ...)"))
    brief = None
    if isinstance(doc.data, dict):  # also after duplicate keys, so every problem is reported at once
        brief, more = checked(doc)
        problems += more
    if brief is not None and not brief.allow_outside_project:
        problems += [(loc, doc.position(loc), message) for loc, message in outside_project(path, brief)]
    if problems:
        raise BriefError(_sorted_messages(path, problems), hint="fix the lines above, then run `pipeline validate` again")
    assert brief is not None  # no problems means the schema validated it
    return LoadedBrief(path=path, brief=brief, sha256=hashlib.sha256(raw).hexdigest())


PROJECT_MARKERS = ("templates", ".git", "pyproject.toml")


def project_root(brief_path: Path) -> Path:
    """The brief's project: the nearest folder at or above the brief's that holds templates/, .git or
    pyproject.toml; the brief's own folder when there is none."""
    folder = brief_path.resolve().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder


def referenced_files(brief: Brief) -> list[tuple[tuple, str]]:
    """Every file or folder the brief names, with where it is named."""
    files: list[tuple[tuple, str]] = [(("templates",), brief.templates)] if brief.templates else []
    files += [(("sources", "data", i, "path"), d.path) for i, d in enumerate(brief.sources.data)]
    files += [(("sources", "feeds", i, "snapshot"), f.snapshot) for i, f in enumerate(brief.sources.feeds) if f.snapshot]
    return files


def missing_snapshots(loaded: LoadedBrief) -> list[str]:
    """Feed snapshots the brief names that are not there, as file:line:col: key: message. For `validate`: a run reads
    the feed live and goes on without it, as with any failing feed."""
    base = loaded.path.resolve().parent
    missing = [(loc, f"{relative} not found") for loc, relative in referenced_files(loaded.brief)
               if loc[:2] == ("sources", "feeds") and not (base / relative).is_file()]
    if not missing:
        return []
    doc = load_yaml(_decode(loaded.path, _read_capped(loaded.path)), str(loaded.path))
    return _sorted_messages(loaded.path, [(loc, doc.position(loc), message) for loc, message in missing])


def outside_project(brief_path: Path, brief: Brief) -> list[tuple[tuple, str]]:
    """Paths that resolve (symlinks followed) outside the project. A path that does not exist leaks
    nothing; it fails later with its own message."""
    root, base = project_root(brief_path), brief_path.resolve().parent
    problems = []
    for loc, relative in referenced_files(brief):
        target = (base / relative).resolve()
        if target.exists() and not target.is_relative_to(root):
            problems.append((loc, f"{relative} resolves to {target}, outside the project folder {root}; move it "
                                  "into the project, or set `allow_outside_project: true` if you mean it"))
    return problems


def keep_as_written(doc: YamlDocument) -> None:
    """Facts and variables reach the model as text: `3.10` stays "3.10" (not 3.1) and a date stays as
    written, so the model is never told a value the operator did not write. Works on freshly parsed data."""
    for path, text in doc.literals.items():
        if not _is_free_text(path):
            continue
        parent, key = _parent(doc.data, path)
        value = parent[key] if parent is not None else None
        if isinstance(value, dt.date) or (isinstance(value, float) and repr(value) != text):
            parent[key] = text


def _is_free_text(path: tuple) -> bool:
    return path[:1] in (("facts",), ("variables",)) or (path[:1] == ("sections",) and path[2:3] == ("variables",))


def _parent(data: Any, path: tuple) -> tuple[Any, Any]:
    """The dict or list holding the value at path, and its key (None when the path is not there)."""
    for step in path[:-1]:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None, None
    return (data if isinstance(data, dict | list) else None), path[-1]


def _read_capped(path: Path) -> bytes:
    """The brief's bytes; a brief over MAX_BRIEF_BYTES (or a device like /dev/zero) is refused unread, and so is a
    pipe, whose read would wait for a writer that never comes."""
    if stat.S_ISFIFO(path.stat().st_mode if path.exists() else 0):
        raise InputError(f"cannot read the brief {path}: it is a pipe, not a file", hint="give the brief's YAML file")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BRIEF_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the brief {path}: {exc.strerror}", hint="check the path") from None
    if len(raw) > MAX_BRIEF_BYTES:
        raise BriefError([f"{path}: larger than {MAX_BRIEF_BYTES // 1024} KiB; a brief is a short YAML file"],
                         hint="move long notes into research files, or check that this is the brief you meant")
    return raw


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # editors on Windows may start the file with a BOM
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BriefError([f"{path}:{line}:{col}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"],
                         hint="save the brief as UTF-8") from None


def _sorted_messages(path: Path, problems: list) -> list[str]:
    ordered = sorted(problems, key=lambda p: p[1])
    shown = [format_problem(path, where, loc, message) for loc, where, message in ordered[:MAX_PROBLEMS]]
    return shown + ([f"... and {len(ordered) - MAX_PROBLEMS} more problems"] if len(ordered) > MAX_PROBLEMS else [])


