"""Reading YAML content with the line of every problem: the checks content loaders share."""

from __future__ import annotations

import math
from pathlib import Path

import yaml


class LocatedError(Exception):
    """A problem at one line of a content file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def compose(path: Path) -> yaml.Node:
    """Parse a YAML file into nodes, which know their lines; raise LocatedError if not YAML."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise LocatedError(
            mark.line + 1 if mark else 1, f"this is not valid YAML: {problem}"
        ) from None
    if node is None:
        raise LocatedError(1, "the file is empty")
    return node


def line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def text(node: yaml.Node, what: str, limit: int = 4000) -> str:
    if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
        raise LocatedError(line(node), f"{what} must be some text")
    if len(node.value) > limit:
        raise LocatedError(line(node), f"{what} is too long (at most {limit} characters)")
    return node.value.strip()


def number(node: yaml.Node, what: str) -> float:
    if isinstance(node, yaml.ScalarNode):
        try:
            value = float(node.value)
        except ValueError:
            pass
        else:
            if math.isfinite(value):
                return value
    raise LocatedError(line(node), f"{what} must be a number")


def mapping(node: yaml.Node, what: str, allowed: set[str]) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise LocatedError(line(node), f"{what} must be a mapping")
    result = {}
    for key, value in node.value:
        if key.value not in allowed:
            names = ", ".join(sorted(allowed))
            raise LocatedError(line(key), f"unknown field {key.value!r} in {what} ({names})")
        result[key.value] = value
    return result


def listed(node: yaml.Node, what: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise LocatedError(line(node), f"{what} must be a list with at least one item")
    return list(node.value)
