"""The hazard log names real tests: every one it cites exists, so a renamed test fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "clinical-safety.md"


def _citations() -> list[tuple[str, str | None]]:
    """Return (file, test name or None) for every test the log cites, in order.

    A citation is `tests/....py::name`, `tests/....py`, or `::name` (the file before it).
    """
    found: list[tuple[str, str | None]] = []
    current = ""
    for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", LOG.read_text()):
        path, name = match.groups()
        if path:
            current = path
        if path or name:
            found.append((current, name))
    return found


def test_every_test_the_hazard_log_cites_exists():
    citations = _citations()
    assert len(citations) > 20
    for path, name in citations:
        source = ROOT / path
        assert source.is_file(), path
        if name:
            assert re.search(rf"^def {name}\(", source.read_text(), re.M), f"{path}::{name}"


def test_every_hazard_has_controls_and_a_test():
    sections = re.split(r"^## ", LOG.read_text(), flags=re.M)[1:]
    assert len(sections) >= 12
    for section in sections:
        assert "**Controls" in section, section.splitlines()[0]
        assert "`tests/" in section or "(see H" in section, section.splitlines()[0]
