"""Groups as content: content/groups/<slug>.yaml names a group, says what it is for, how
people join, and its guidelines (Markdown, pinned at the top of the group)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from webapp.yamlcheck import LocatedError, compose, line, mapping, number, text

KINDS = ("open", "approval", "invite")
FIELDS = {"name", "description", "kind", "guidelines", "slow_mode_minutes", "hold_first_posts"}
REQUIRED = ("name", "description", "kind", "guidelines")


@dataclass(frozen=True)
class GroupSpec:
    """One group as content describes it."""

    slug: str
    name: str
    description: str
    kind: str
    guidelines_html: str
    slow_mode_minutes: int = 0
    hold_first_posts: bool = False


def load_group(path: Path, markdown: Callable[[str], str]) -> GroupSpec:
    """Read and check one group file; raise LocatedError naming the line of any problem."""
    node = compose(path)
    fields = mapping(node, "a group", FIELDS)
    for name in REQUIRED:
        if name not in fields:
            raise LocatedError(line(node), f"{name!r} is missing")
    kind = text(fields["kind"], "kind", 20)
    if kind not in KINDS:
        raise LocatedError(line(fields["kind"]), f"kind must be one of {', '.join(KINDS)}")
    minutes = 0
    if "slow_mode_minutes" in fields:
        value = number(fields["slow_mode_minutes"], "slow_mode_minutes")
        if value != int(value) or not 0 <= value <= 1440:
            raise LocatedError(
                line(fields["slow_mode_minutes"]),
                "slow_mode_minutes must be a whole number from 0 to 1440",
            )
        minutes = int(value)
    hold = False
    if "hold_first_posts" in fields:
        raw = text(fields["hold_first_posts"], "hold_first_posts", 5).lower()
        if raw not in ("true", "false"):
            raise LocatedError(
                line(fields["hold_first_posts"]), "hold_first_posts is true or false"
            )
        hold = raw == "true"
    return GroupSpec(
        slug=path.stem,
        name=text(fields["name"], "name", 80),
        description=text(fields["description"], "description", 500),
        kind=kind,
        guidelines_html=markdown(text(fields["guidelines"], "guidelines", 8000)),
        slow_mode_minutes=minutes,
        hold_first_posts=hold,
    )
