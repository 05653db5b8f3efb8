"""content/ is checked at start-up, and `flask content check` names the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_app
from webapp import content
from webapp.content import ContentInvalid


def write_pages(root: Path, files: dict[str, str]) -> Path:
    """Make a content folder holding the given page files."""
    (root / "pages").mkdir(parents=True)
    for name, text in files.items():
        (root / "pages" / name).write_text(text)
    return root


def test_the_real_content_is_valid():
    loaded, errors = content.load(content.CONTENT_DIR)
    assert errors == []
    assert {"about", "privacy", "help-signing-in"} <= set(loaded.pages)


def test_errors_name_the_file_and_line(tmp_path):
    root = write_pages(
        tmp_path,
        {
            "good.yaml": "title: Fine\nbody: Some *text*.\n",
            "unknown.yaml": "title: A title\nbody: text\ncolour: red\n",
            "missing.yaml": "summary: no title or body\n",
            "broken.yaml": "title: ok\nbody: [unclosed\n",
            "notes.txt": "not yaml\n",
        },
    )
    loaded, errors = content.load(root)
    shown = [str(e).replace(str(root) + "/", "") for e in errors]
    assert "pages/unknown.yaml:3: unknown field 'colour' (allowed: title, summary, body)" in shown
    assert "pages/missing.yaml:1: 'body' is missing" in shown
    assert "pages/missing.yaml:1: 'title' is missing" in shown
    assert any(s.startswith("pages/broken.yaml:3: this is not valid YAML") for s in shown)
    assert "pages/notes.txt:1: content files must end in .yaml" in shown
    assert list(loaded.pages) == ["good"]
    assert loaded.pages["good"].html == "<p>Some <em>text</em>.</p>\n"


def test_markdown_cannot_carry_html(tmp_path):
    root = write_pages(tmp_path, {"x.yaml": "title: X\nbody: |\n  <script>alert(1)</script>\n"})
    loaded, errors = content.load(root)
    assert errors == []
    assert "<script>" not in loaded.pages["x"].html


def test_the_app_will_not_start_with_bad_content(tmp_path, migrated):
    root = write_pages(tmp_path, {"bad.yaml": "title: X\n"})
    with pytest.raises(ContentInvalid, match=r"bad.yaml:1: 'body' is missing"):
        make_app(CONTENT_DIR=str(root))


def test_content_check_command(tmp_path, app):
    good = app.test_cli_runner().invoke(args=["content", "check"])
    assert good.exit_code == 0
    assert "content/ is fine: 3 pages, 16 tests, 4 flows, 13 conditions." in good.output
    root = write_pages(tmp_path, {"bad.yaml": "title: X\nbody: ok\nextra: 1\n"})
    app.config["CONTENT_DIR"] = str(root)
    bad = app.test_cli_runner().invoke(args=["content", "check"])
    assert bad.exit_code == 1
    assert "bad.yaml:3: unknown field 'extra'" in bad.output


def test_a_broken_flow_stops_start_up_naming_its_line(tmp_path, migrated):
    root = write_pages(tmp_path, {"ok.yaml": "title: X\nbody: Y\n"})
    (root / "flows").mkdir()
    (root / "flows" / "chat.yaml").write_text(
        "title: Chat\nstart: a\nsteps:\n  a:\n    say: Hi\n    next: b\n"
    )
    with pytest.raises(ContentInvalid, match=r"flows/chat.yaml:5: step 'a' goes to 'b'"):
        make_app(CONTENT_DIR=str(root))


def test_group_files_are_checked_line_by_line(tmp_path):
    root = write_pages(tmp_path, {"good.yaml": "title: Fine\nbody: text\n"})
    (root / "groups").mkdir()
    base = "name: A group\ndescription: For us\nguidelines: Be kind\n"
    files = {
        "fine.yaml": base + "kind: open\nslow_mode_minutes: 5\n",
        "kind.yaml": base + "kind: secret\n",
        "slow.yaml": base + "kind: open\nslow_mode_minutes: 2.5\n",
        "hold.yaml": base + "kind: open\nhold_first_posts: maybe\n",
        "missing.yaml": "name: A group\nkind: open\n",
        "extra.yaml": base + "kind: open\ncolour: red\n",
    }
    for name, text in files.items():
        (root / "groups" / name).write_text(text)
    loaded, errors = content.load(root)
    shown = [str(e).replace(str(root) + "/", "") for e in errors]
    assert "groups/kind.yaml:4: kind must be one of open, approval, invite" in shown
    assert "groups/slow.yaml:5: slow_mode_minutes must be a whole number from 0 to 1440" in shown
    assert "groups/hold.yaml:5: hold_first_posts is true or false" in shown
    assert "groups/missing.yaml:1: 'description' is missing" in shown
    assert any(s.startswith("groups/extra.yaml:5: unknown field 'colour'") for s in shown)
    assert list(loaded.groups) == ["fine"] and loaded.groups["fine"].slow_mode_minutes == 5
