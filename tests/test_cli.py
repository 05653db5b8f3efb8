"""Command-line tasks: demo data and backups."""

from __future__ import annotations

import re
import sqlite3

from sqlmodel import func, select

from tests.conftest import DATABASE_URL
from webapp.accounts.models import Invitation, Person, Practice
from webapp.reviews.models import Review


def test_demo_seeds_an_empty_database_once(app, db):
    first = app.test_cli_runner().invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data added" in first.output
    assert "pat@example.org" in first.output and "priya@example.org" in first.output
    # The whole cast, each with what they are.
    for words in ("patient", "clinician", "practice admin", "peer supporter", "carer"):
        assert words in first.output, words
    assert "time-bank coordinator" in first.output and "commissioner" in first.output
    assert re.search(r"link: http://localhost/account/join/[\w-]+", first.output)
    second = app.test_cli_runner().invoke(args=["demo"])
    assert "Demo data added" not in second.output
    assert "pat@example.org" in second.output
    # Five named demo people (with a carer and a commissioner), 30 more patients (each joined
    # by invitation), and one fresh invitation to try joining with.
    assert db.exec(select(func.count(Practice.id))).one() == 1
    assert db.exec(select(func.count(Person.id))).one() == 5 + 30
    assert db.exec(select(func.count(Invitation.id))).one() == 30 + 1
    # Pat's next review and the one where Pat's plan was agreed, and one for each patient.
    assert db.exec(select(func.count(Review.id))).one() == 2 + 30


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


def test_purge_deletes_only_what_can_no_longer_be_used(app, db, patient):
    import datetime as dt

    from webapp.accounts.models import AuthSession, SignInLink, WebAuthnChallenge

    now = dt.datetime.now(dt.UTC)
    old, fresh = now - dt.timedelta(days=2), now + dt.timedelta(minutes=5)
    db.add_all(
        [
            WebAuthnChallenge(challenge=b"old", purpose="register", browser_id="b", expires_at=old),
            WebAuthnChallenge(
                challenge=b"new", purpose="register", browser_id="b", expires_at=fresh
            ),
            SignInLink(person_id=patient.id, token_hash="a" * 64, expires_at=old),
            SignInLink(person_id=patient.id, token_hash="b" * 64, expires_at=fresh),
            AuthSession(
                person_id=patient.id,
                token_hash="c" * 64,
                method="link",
                last_seen_at=now - dt.timedelta(days=31),
            ),
            AuthSession(person_id=patient.id, token_hash="d" * 64, method="link"),
        ]
    )
    db.commit()
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 passkey challenges, 1 sign-in links, 1 sessions" in result.output
    db.expire_all()
    assert [c.challenge for c in db.exec(select(WebAuthnChallenge))] == [b"new"]
    assert [s.token_hash[0] for s in db.exec(select(SignInLink))] == ["b"]
    assert [s.token_hash[0] for s in db.exec(select(AuthSession))] == ["d"]


def test_add_a_practice_and_invite_its_staff(app, db):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["practice", "add", "  Hillside   Surgery ", "--ods", "y00002"])
    assert added.exit_code == 0, added.output
    practice = db.exec(select(Practice)).one()
    assert (practice.name, practice.ods_code) == ("Hillside Surgery", "Y00002")
    assert f"Practice {practice.id}: Hillside Surgery" in added.output
    again = runner.invoke(args=["practice", "add", "Other", "--ods", "Y00002"])
    assert again.exit_code == 1 and "already exists" in again.output
    staff = runner.invoke(
        args=[
            "invite",
            "staff",
            "--practice",
            str(practice.id),
            "--name",
            "Dr Priya Shah",
            "--role",
            "clinician",
        ]
    )
    assert staff.exit_code == 0, staff.output
    assert "as clinician" in staff.output
    assert db.exec(select(Invitation)).one().role == "clinician"
    wrong = runner.invoke(
        args=["invite", "staff", "--practice", str(practice.id), "--name", "X", "--role", "boss"]
    )
    assert wrong.exit_code == 2 and "'boss' is not one of" in wrong.output


def test_a_commissioner_is_invited_from_the_command_line(app, db, practice):
    done = app.test_cli_runner().invoke(
        args=[
            "invite",
            "staff",
            "--practice",
            str(practice.id),
            "--name",
            "Cam Ward",
            "--role",
            "commissioner",
        ]
    )
    assert done.exit_code == 0, done.output
    assert "Invitation for Cam Ward as commissioner" in done.output


def test_one_failing_clock_job_never_stops_the_others(app, monkeypatch, caplog):
    # A review that breaks the results release every minute must not keep a request to be
    # contacted from reaching the practice's admins, nor reminders from going.
    from webapp.contact import services as contact
    from webapp.goals import reminders
    from webapp.groups import notices
    from webapp.results import services as results

    ran = []

    def broken(session, today):
        ran.append("release")
        raise RuntimeError("one bad review")

    monkeypatch.setattr(results, "release_due", broken)
    monkeypatch.setattr(contact, "escalate_due", lambda session: ran.append("escalate") or 1)
    monkeypatch.setattr(reminders, "send_due", lambda session: ran.append("remind") or 0)
    monkeypatch.setattr(notices, "push_pending", lambda session: ran.append("push") or 0)
    result = app.test_cli_runner().invoke(args=["clock", "--once"])
    assert result.exit_code == 0, result.output
    assert ran == ["escalate", "release", "remind", "push"]
    assert "the results release job failed; the others still run" in caplog.text
