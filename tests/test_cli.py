"""Command-line tasks: demo data and backups."""

from __future__ import annotations

import re
import sqlite3

from sqlmodel import func, select

from tests.conftest import DATABASE_URL
from webapp.accounts.models import Invitation, Person, Practice


def test_demo_seeds_an_empty_database_once(app, db):
    first = app.test_cli_runner().invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data added" in first.output
    assert "pat@example.org" in first.output and "priya@example.org" in first.output
    assert re.search(r"link: http://localhost/account/join/[\w-]+", first.output)
    second = app.test_cli_runner().invoke(args=["demo"])
    assert "Demo data added" not in second.output
    assert "pat@example.org" in second.output
    assert db.exec(select(func.count(Practice.id))).one() == 1
    assert db.exec(select(func.count(Person.id))).one() == 3
    assert db.exec(select(func.count(Invitation.id))).one() == 1


def test_backup_copies_the_database(app, db, patient, tmp_path):
    target = tmp_path / "backup" / "copy.db"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    if DATABASE_URL.startswith("sqlite"):
        assert result.exit_code == 0, result.output
        with sqlite3.connect(target) as copy:
            names = [row[0] for row in copy.execute("select name from person")]
        assert names == ["Pat Morgan"]
    else:
        assert result.exit_code == 1
        assert "pg_dump" in result.output
