"""Every form that changes a person's record names whose record it was made for, so a form
opened while helping one person is never saved into another's (see carers.routes)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"
PERSON_OWNED = ["results/_macros.html", "main/home.html", "plan/mine.html", "plan/look_back.html"]
PERSON_OWNED += [str(p.relative_to(TEMPLATES)) for p in (TEMPLATES / "planning").glob("*.html")]
PERSON_OWNED += [str(p.relative_to(TEMPLATES)) for p in (TEMPLATES / "goals").glob("*.html")]
PERSON_OWNED += [str(p.relative_to(TEMPLATES)) for p in (TEMPLATES / "timebank").glob("*.html")]
# Forms on those pages that are the signed-in person's own, not the record's.
OWN = ("carers.act",)
FORM = re.compile(r"<form\b[^>]*method=\"post\".*?</form>", re.S)


def test_every_person_owned_form_names_its_record():
    checked = 0
    for name in PERSON_OWNED:
        for form in FORM.findall((TEMPLATES / name).read_text()):
            if any(endpoint in form for endpoint in OWN):
                continue
            checked += 1
            assert "record_field()" in form, (name, form[:120])
    assert checked > 20
