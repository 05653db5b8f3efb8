"""What people write in groups, made safe to show: a small Markdown subset (paragraphs,
emphasis, lists, links), rendered, then cleaned with nh3 so nothing else survives.

Links are shown with their address as their words, so nobody is misled by link text, and
only http, https and mailto addresses become links at all.
"""

from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

POST_MAX = 10_000
TAGS = {"p", "em", "strong", "ul", "ol", "li", "a", "br"}
ATTRIBUTES = {"a": {"href"}}
SCHEMES = {"http", "https", "mailto"}
# Characters that hide or reorder text; taken out of posts (they have no use in one).
INVISIBLE = {"Cf", "Co", "Cn"}

WEB_OR_MAIL = re.compile(r"(https?://[^/\s]|mailto:)", re.IGNORECASE)

_markdown = MarkdownIt("zero", {"linkify": False, "html": False, "breaks": True}).enable(
    ["emphasis", "list", "link", "newline", "autolink"]
)


def _tidy(text: str) -> str:
    """Normalise the text and drop control, private-use and invisible formatting characters
    (zero-width, direction overrides), keeping new lines and tabs."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    return "".join(
        char
        for char in text
        if char in "\n\t"
        or (unicodedata.category(char) not in INVISIBLE and unicodedata.category(char) != "Cc")
    )


def _clean(html: str) -> str:
    """Keep only the small set of tags, and links to http, https and mailto addresses."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        url_relative="deny",
        link_rel="nofollow noopener noreferrer ugc",
        attribute_filter=_only_addresses,
    )


def _only_addresses(tag: str, name: str, value: str) -> str | None:
    """Keep a link's address and nothing else (nh3 otherwise keeps a title everywhere)."""
    return value if tag == "a" and name in ("href", "rel") else None


def render_post(text: str) -> str:
    """Return the post as safe HTML (the caller has checked its length)."""
    tokens = _markdown.parse(_tidy(text))
    for token in tokens:
        # Replace each link's words with its address.
        children = token.children or []
        rebuilt = []
        skipping = linking = False
        for child in children:
            if child.type == "link_open":
                address = str(child.attrGet("href") or "")
                # Only whole web and mail addresses become links; anything else is words.
                linking = WEB_OR_MAIL.match(address) is not None
                if linking:
                    rebuilt.append(child)
                words = child.__class__("text", "", 0)
                words.content = address
                rebuilt.append(words)
                skipping = True
            elif child.type == "link_close":
                if linking:
                    rebuilt.append(child)
                skipping = linking = False
            elif not skipping:
                rebuilt.append(child)
        if token.children is not None:
            token.children = rebuilt
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return _clean(html)


def plain_line(text: str, limit: int) -> str:
    """Return a one-line text (a title, a reason, search words) without control or hidden
    characters, its spaces tidied, cut to the limit."""
    return " ".join(_tidy(text).split())[:limit]


def plain_text(text: str) -> str:
    """Return a few lines of plain words (a description, a note) without control or hidden
    characters, each line's spaces tidied and runs of blank lines closed up."""
    lines = [" ".join(line.split()) for line in _tidy(text).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_post(text: str) -> str:
    """Return the post's words tidied, or raise ValueError saying what to change."""
    tidied = _tidy(text).strip()
    if not tidied:
        raise ValueError("empty")
    if len(tidied) > POST_MAX:
        raise ValueError("long")
    return tidied


# A web address written out, linked or not (people copy them all the same).
ADDRESS = re.compile(r"(https?://|www\.)\S", re.IGNORECASE)


def has_link(text: str) -> bool:
    """Say whether a post holds a link or a written web address (new members' wait for a
    peer supporter)."""
    return "<a " in render_post(text) or ADDRESS.search(_tidy(text)) is not None
