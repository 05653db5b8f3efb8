"""Time banks as content: content/timebank/<slug>.yaml names a bank, says what it is for,
lists its neighbourhoods and categories of help, and sets its balance limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from webapp.yamlcheck import LocatedError, compose, line, listed, mapping, number, text

FIELDS = {"name", "description", "areas", "categories", "lower_limit_hours", "upper_limit_hours"}
REQUIRED = ("name", "description", "areas", "categories")
SLUG = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class BankSpec:
    """One time bank as content describes it; limits in quarter hours."""

    slug: str
    name: str
    description: str
    areas: tuple[str, ...]
    # (slug, label) in the order the content gives them.
    categories: tuple[tuple[str, str], ...]
    lower_limit: int = -40
    upper_limit: int = 160

    def category_label(self, slug: str) -> str:
        """Return a category's words, or the slug itself for one no longer in content."""
        return dict(self.categories).get(slug, slug)


def _limit(node, what: str, low: int, high: int) -> int:
    value = number(node, what)
    if value * 4 != int(value * 4) or not low <= value <= high:
        raise LocatedError(line(node), f"{what} must be in quarter hours, from {low} to {high}")
    return int(value * 4)


def load_bank(path: Path) -> BankSpec:
    """Read and check one bank file; raise LocatedError naming the line of any problem."""
    node = compose(path)
    fields = mapping(node, "a time bank", FIELDS)
    for name in REQUIRED:
        if name not in fields:
            raise LocatedError(line(node), f"{name!r} is missing")
    areas: list[str] = []
    for item in listed(fields["areas"], "areas"):
        area = text(item, "an area", 60)
        if area in areas:
            raise LocatedError(line(item), f"the area {area!r} is listed twice")
        areas.append(area)
    categories: list[tuple[str, str]] = []
    for item in listed(fields["categories"], "categories"):
        entry = mapping(item, "a category", {"slug", "label"})
        if set(entry) != {"slug", "label"}:
            raise LocatedError(line(item), "a category has a slug and a label")
        slug = text(entry["slug"], "slug", 40)
        if not SLUG.match(slug):
            raise LocatedError(
                line(entry["slug"]), "a slug is lower-case letters, digits and hyphens"
            )
        if slug in dict(categories):
            raise LocatedError(line(entry["slug"]), f"the category {slug!r} is listed twice")
        categories.append((slug, text(entry["label"], "label", 60)))
    lower = (
        _limit(fields["lower_limit_hours"], "lower_limit_hours", -100, 0)
        if ("lower_limit_hours" in fields)
        else -40
    )
    upper = (
        _limit(fields["upper_limit_hours"], "upper_limit_hours", 1, 1000)
        if ("upper_limit_hours" in fields)
        else 160
    )
    return BankSpec(
        slug=path.stem,
        name=text(fields["name"], "name", 80),
        description=text(fields["description"], "description", 500),
        areas=tuple(areas),
        categories=tuple(categories),
        lower_limit=lower,
        upper_limit=upper,
    )
