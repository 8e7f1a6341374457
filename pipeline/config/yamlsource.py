"""Strict YAML loading that remembers where every value came from (for file:line:col errors)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

Path_ = tuple  # a key path into the document, e.g. ("sections", 2, "words")


@dataclass
class YamlDocument:
    data: object
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # 1-based line, col
    problems: list[tuple[Path_, tuple[int, int], str]] = field(default_factory=list)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # where each key is written
    literals: dict[Path_, str] = field(default_factory=dict)  # plain floats and dates, as written
    unreadable_lines: list[int] = field(default_factory=list)  # 1-based: where a syntax error began and was found

    def position(self, path: Path_) -> tuple[int, int]:
        """Position of the deepest known prefix of path (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            if tuple(path[:end]) in self.positions:
                return self.positions[tuple(path[:end])]
        return (1, 1)

    def path_at(self, where: tuple[int, int]) -> Path_:
        """The deepest key path whose value starts at where (to name the key of a bad tag or scalar)."""
        return max((path for path, pos in self.positions.items() if pos == where), key=len, default=())

    def key_position(self, path: Path_) -> tuple[int, int]:
        """Where the key itself is written: a nested value starts on a later line than its key."""
        return self.key_positions.get(tuple(path)) or self.position(path)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader: tags that construct Python objects are already refused."""

    def construct_object(self, node, deep=False):
        # Bad scalars (date: 2026-13-01, !!int abc) raise plain ValueErrors; give them a position.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"invalid value: {exc}", node.start_mark) from None


# YAML 1.2 core scalars instead of 1.1's: `NO`, `on` and `y` stay text, `1:30` is not 90, `017` is not 15.
_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_StrictLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
_StrictLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?[0-9]+[eE][-+]?[0-9]+"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))
_LITERAL_TAGS = {_FLOAT, "tag:yaml.org,2002:timestamp"}


MAX_VALUES = 100_000  # values after aliases expand: a "billion laughs" brief is refused before it is built


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values the document holds once every alias is expanded (each shared node counted once per use)."""
    if id(node) not in sizes:
        sizes[id(node)] = 0  # a node that contains itself: _walk reports it as a recursive alias
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else \
            node.value if isinstance(node, yaml.SequenceNode) else []
        sizes[id(node)] = min(1 + sum(_expanded_size(child, sizes) for child in children), MAX_VALUES + 1)
    return sizes[id(node)]


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(node: yaml.Node, path: Path_, doc: YamlDocument, seen: set[int], active: set[int]) -> None:
    """Record positions; an aliased node is walked once (aliases can nest exponentially)."""
    doc.positions[path] = _mark(node)
    if id(node) in active:
        raise yaml.constructor.ConstructorError(None, None, "an alias refers to a value that contains it "
                                                "(recursive alias); write the value out instead", node.start_mark)
    if id(node) in seen:
        return
    seen.add(id(node))
    active.add(id(node))
    if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in _LITERAL_TAGS:
        doc.literals[path] = node.value
    if isinstance(node, yaml.MappingNode):
        _walk_mapping(node, path, doc, seen, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), doc, seen, active)
    active.discard(id(node))


def _walk_mapping(node: yaml.MappingNode, path: Path_, doc: YamlDocument, seen: set[int], active: set[int]) -> None:
    first: dict[object, tuple[int, int]] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
        if key in first:
            doc.problems.append((path + (key,), _mark(key_node),
                                 f"duplicate key (first defined on line {first[key][0]}); keep one of them"))
        first.setdefault(key, _mark(key_node))
        doc.key_positions[path + (key,)] = _mark(key_node)  # the last one wins, as in the data
        _walk(value_node, path + (key,), doc, seen, active)


def load_yaml(text: str, filename: str) -> YamlDocument:
    """Parse text; syntax errors, unsafe tags and duplicate keys become problems with positions.

    Duplicate keys still yield data (the last value wins) so the schema's problems are reported too."""
    doc = YamlDocument(data=None)
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:  # control characters are refused before parsing starts
        where = _offset_position(text, exc.position)
        doc.problems.append(((), where, f"{exc.reason} (character #x{exc.character:04x}); remove it"))
        return doc
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_VALUES:
            doc.problems.append(((), _mark(node), f"aliases expand this document to more than {MAX_VALUES} values; "
                                 "write the values out instead of nesting aliases"))
        elif node is not None:
            _walk(node, (), doc, set(), set())
            doc.data = loader.construct_document(node)
    except RecursionError:
        doc.data = None
        doc.problems.append(((), (1, 1), "nested too deeply; a brief is a few levels of keys and lists"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):  # say where the unclosed thing opened
            mark = exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        # An unclosed quote is found at the end of the file; the line that opened it is the context mark.
        doc.unreadable_lines = [m.line + 1 for m in (exc.context_mark, exc.problem_mark) if m is not None]
        message = " ".join(filter(None, [exc.context, exc.problem]))
        if "constructor" in message:
            message += " (YAML tags that build objects are not allowed in a brief)"
        doc.data = None
        doc.problems.append((doc.path_at(where), where, message))
    finally:
        loader.dispose()
    return doc


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return (text.count("\n", 0, offset) + 1, offset - line_start + 1)


def format_problem(filename: str | Path, where: tuple[int, int], path: Path_, message: str) -> str:
    dotted = ".".join(str(p) for p in path)
    prefix = f"{filename}:{where[0]}:{where[1]}:"
    return f"{prefix} {dotted}: {message}" if dotted else f"{prefix} {message}"
