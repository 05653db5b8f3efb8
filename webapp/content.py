"""The only reader of content/: loads and checks every file once, at start-up.

Errors name the file and line, so `flask content check` can point a writer at
the exact place to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import nh3
import yaml
from flask import Flask, current_app
from markdown_it import MarkdownIt

from webapp.conditions.spec import ConditionList, load_condition
from webapp.groups.spec import GroupSpec, load_group
from webapp.planning.flows import Flow, load_flow
from webapp.results.catalogue import Catalogue, LocatedError, load_test
from webapp.safety import check as safety
from webapp.safety import model as learned
from webapp.safety.check import CrisisPhrases
from webapp.timebank.spec import BankSpec, load_bank

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


@dataclass(frozen=True)
class ContentError:
    """One problem in a content file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        """Return 'file:line: message'."""
        try:
            shown = self.path.relative_to(Path.cwd())
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Page:
    """A page of plain-language information, such as 'About' or 'Help with signing in'."""

    slug: str
    title: str
    summary: str
    html: str


@dataclass
class Content:
    """Everything loaded from content/."""

    pages: dict[str, Page] = field(default_factory=dict)
    results: Catalogue = field(default_factory=Catalogue)
    flows: dict[str, Flow] = field(default_factory=dict)
    crisis: CrisisPhrases = field(default_factory=CrisisPhrases)
    groups: dict[str, GroupSpec] = field(default_factory=dict)
    banks: dict[str, BankSpec] = field(default_factory=dict)
    conditions: ConditionList = field(default_factory=ConditionList)


class ContentInvalid(RuntimeError):
    """Raised at start-up when content/ has errors."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__("content/ has errors:\n" + "\n".join(str(e) for e in errors))
        self.errors = errors


def render_markdown(text: str) -> str:
    """Render trusted Markdown to HTML, sanitised all the same."""
    return nh3.clean(_markdown.render(text))


PAGE_FIELDS = {"title": 80, "summary": 200, "body": 20000}
PAGE_REQUIRED = {"title", "body"}


def _load_page(path: Path, errors: list[ContentError]) -> Page | None:
    """Parse and check one page file, adding any problems to errors."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(error, "problem", None) or str(error)
        errors.append(ContentError(path, line, f"this is not valid YAML: {problem}"))
        return None
    if not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node else 1
        errors.append(ContentError(path, line, "a page must be a mapping of title, summary, body"))
        return None
    values: dict[str, str] = {}
    found = len(errors)
    for key_node, value_node in node.value:
        key, line = key_node.value, key_node.start_mark.line + 1
        if key not in PAGE_FIELDS:
            allowed = ", ".join(PAGE_FIELDS)
            errors.append(ContentError(path, line, f"unknown field {key!r} (allowed: {allowed})"))
            continue
        if not isinstance(value_node, yaml.ScalarNode) or not value_node.value.strip():
            errors.append(ContentError(path, line, f"{key!r} must be some text"))
            continue
        if len(value_node.value) > PAGE_FIELDS[key]:
            errors.append(
                ContentError(
                    path,
                    line,
                    f"{key!r} is too long ({len(value_node.value)} characters, "
                    f"at most {PAGE_FIELDS[key]})",
                )
            )
            continue
        values[key] = value_node.value
    for key in sorted(PAGE_REQUIRED - values.keys()):
        if not any(k.value == key for k, _v in node.value):
            errors.append(ContentError(path, node.start_mark.line + 1, f"{key!r} is missing"))
    if len(errors) > found:
        return None
    return Page(
        slug=path.stem,
        title=values["title"],
        summary=values.get("summary", ""),
        html=render_markdown(values["body"]),
    )


def load(root: Path) -> tuple[Content, list[ContentError]]:
    """Load every content file under root; return the content and every problem found."""
    content, errors = Content(), []
    pages_dir = root / "pages"
    if not pages_dir.is_dir():
        errors.append(ContentError(pages_dir, 1, "the pages folder is missing"))
        return content, errors
    for path in sorted(pages_dir.glob("*")):
        if path.suffix not in {".yaml", ".yml"}:
            errors.append(ContentError(path, 1, "content files must end in .yaml"))
            continue
        page = _load_page(path, errors)
        if page is not None:
            content.pages[page.slug] = page
    results_dir = root / "results"
    for path in sorted(results_dir.glob("*")) if results_dir.is_dir() else []:
        if path.suffix not in {".yaml", ".yml"}:
            errors.append(ContentError(path, 1, "content files must end in .yaml"))
            continue
        try:
            test = load_test(path, render_markdown)
        except LocatedError as error:
            errors.append(ContentError(path, error.line, error.message))
            continue
        errors.extend(ContentError(path, 1, clash) for clash in content.results.add(test))
    flows_dir = root / "flows"
    for path in sorted(flows_dir.glob("*")) if flows_dir.is_dir() else []:
        if path.suffix not in {".yaml", ".yml"}:
            errors.append(ContentError(path, 1, "content files must end in .yaml"))
            continue
        try:
            content.flows[path.stem] = load_flow(path)
        except LocatedError as error:
            errors.append(ContentError(path, error.line, error.message))
    groups_dir = root / "groups"
    for path in sorted(groups_dir.glob("*")) if groups_dir.is_dir() else []:
        if path.suffix not in {".yaml", ".yml"}:
            errors.append(ContentError(path, 1, "content files must end in .yaml"))
            continue
        try:
            content.groups[path.stem] = load_group(path, render_markdown)
        except LocatedError as error:
            errors.append(ContentError(path, error.line, error.message))
    banks_dir = root / "timebank"
    for path in sorted(banks_dir.glob("*")) if banks_dir.is_dir() else []:
        if path.suffix not in {".yaml", ".yml"}:
            errors.append(ContentError(path, 1, "content files must end in .yaml"))
            continue
        try:
            content.banks[path.stem] = load_bank(path)
        except LocatedError as error:
            errors.append(ContentError(path, error.line, error.message))
    conditions_dir = root / "conditions"
    known_tests = set(content.results.tests)
    for path in sorted(conditions_dir.glob("*")) if conditions_dir.is_dir() else []:
        if path.suffix not in {".yaml", ".yml"}:
            errors.append(ContentError(path, 1, "content files must end in .yaml"))
            continue
        try:
            condition = load_condition(path, known_tests)
        except LocatedError as error:
            errors.append(ContentError(path, error.line, error.message))
            continue
        errors.extend(ContentError(path, 1, clash) for clash in content.conditions.add(condition))
    crisis = root / "safety" / "crisis.yaml"
    if crisis.is_file():
        try:
            content.crisis = safety.load(crisis)
        except LocatedError as error:
            errors.append(ContentError(crisis, error.line, error.message))
    weights = root / "safety" / "model.json"
    if weights.is_file() and not errors:
        try:
            content.crisis = replace(content.crisis, model=learned.load(weights))
        except (ValueError, OSError) as error:
            errors.append(ContentError(weights, 1, str(error)))
    return content, errors


def init_app(app: Flask) -> None:
    """Load content/ once; refuse to start if any file is wrong."""
    root = Path(app.config.get("CONTENT_DIR", CONTENT_DIR))
    content, errors = load(root)
    if errors:
        raise ContentInvalid(errors)
    app.extensions["content"] = content


def get_content() -> Content:
    """Return the app's loaded content."""
    return current_app.extensions["content"]
