"""Strict YAML loading that remembers where every value came from (for file:line:col errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

Path_ = tuple  # a key path into the document, e.g. ("sections", 2, "words")


@dataclass
class YamlDocument:
    data: object
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # 1-based line, col
    problems: list[tuple[Path_, tuple[int, int], str]] = field(default_factory=list)

    def position(self, path: Path_) -> tuple[int, int]:
        """Position of the deepest known prefix of path (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            if tuple(path[:end]) in self.positions:
                return self.positions[tuple(path[:end])]
        return (1, 1)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader: tags that construct Python objects are already refused."""


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(node: yaml.Node, path: Path_, doc: YamlDocument) -> None:
    doc.positions[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in seen:
                line, _ = seen[key]
                doc.problems.append((path + (key,), _mark(key_node), f"duplicate key (first defined on line {line})"))
            seen[key] = _mark(key_node)
            _walk(value_node, path + (key,), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), doc)


def load_yaml(text: str, filename: str) -> YamlDocument:
    """Parse text; syntax errors, unsafe tags and duplicate keys become problems with positions."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(data=None)
        doc = YamlDocument(data=None)
        _walk(node, (), doc)
        if not doc.problems:
            doc.data = loader.construct_document(node)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(filter(None, [exc.context, exc.problem]))
        if "constructor" in message:
            message += " (YAML tags that build objects are not allowed in a brief)"
        return YamlDocument(data=None, problems=[((), where, message)])
    finally:
        loader.dispose()


def format_problem(filename: str | Path, where: tuple[int, int], path: Path_, message: str) -> str:
    dotted = ".".join(str(p) for p in path)
    prefix = f"{filename}:{where[0]}:{where[1]}:"
    return f"{prefix} {dotted}: {message}" if dotted else f"{prefix} {message}"
