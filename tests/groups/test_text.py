"""Posts are shown through a small Markdown subset and nh3: known XSS payloads come out as
plain text, links only to web and mail addresses, always showing the address."""

from __future__ import annotations

import re

import pytest

from webapp.groups.text import POST_MAX, check_post, has_link, render_post

# Payloads from public XSS cheat sheets, and Markdown-link tricks.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<body onload=alert(1)>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '"><script>alert(1)</script>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    '[x](https://ok.example "onmouseover=alert(1)")',
    "<a href='https://ok.example' onclick='alert(1)'>x</a>",
    "[x](//evil.example/login)",
    "[x](/account/delete)",
    "[x](?next=//evil)",
]
ALLOWED_TAG = re.compile(r"</?(p|em|strong|ul|ol|li|br|a)\b")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_known_payloads_never_become_markup_or_script_links(payload):
    html = render_post(payload)
    # Every tag left is one of the small set; anything else is escaped text.
    for tag in re.findall(r"<[^>]*>", html):
        assert ALLOWED_TAG.match(tag), (payload, html)
    # Links only ever go to web or mail addresses, and carry nothing but address and rel.
    for attributes in re.findall(r"<a ([^>]*)>", html):
        assert re.fullmatch(
            r'href="(https?|mailto):[^"]*" rel="nofollow noopener noreferrer ugc"', attributes
        ), (payload, html)


def test_the_small_subset_reads_well():
    html = render_post("Hello *there* and **you**\n\n- one\n- two\n\n1. first")
    assert html == (
        "<p>Hello <em>there</em> and <strong>you</strong></p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n</ol>\n"
    )


def test_links_show_their_address_whatever_their_words():
    html = render_post("[the NHS](https://evil.example/login)")
    assert ">https://evil.example/login</a>" in html and "the NHS" not in html
    assert has_link("see <https://www.nhs.uk>") and not has_link("no links here")


def test_hidden_and_direction_changing_characters_are_taken_out():
    assert render_post("a\u202eb\u200bc\u2066d") == "<p>abcd</p>\n"


def test_empty_and_huge_posts_are_refused():
    for empty in ("", "   ", "\u200b\u200b", "\n\n"):
        with pytest.raises(ValueError, match="empty"):
            check_post(empty)
    with pytest.raises(ValueError, match="long"):
        check_post("x" * (POST_MAX + 1))
    assert check_post("  fine  ") == "fine"
