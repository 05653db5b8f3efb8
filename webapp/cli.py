"""Command-line tasks: demo data, invitations, results, content checks, backups, the clock."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from webapp import content, mail
from webapp import demo as demo_data
from webapp.accounts import services
from webapp.accounts.models import Person, Practice, Role
from webapp.accounts.services import AccountError
from webapp.contact import services as contact
from webapp.db import get_engine, session_scope
from webapp.goals import reminders
from webapp.groups import notices as group_notices
from webapp.links import public_url
from webapp.results import services as results
from webapp.results.importing import ImportFailed
from webapp.yamlcheck import LocatedError

invite = AppGroup("invite", help="Invite people to a practice.")
results_group = AppGroup("results", help="Import and release test results.")
content_group = AppGroup("content", help="Check the files in content/.")
practice_group = AppGroup("practice", help="Manage practices.")
groups_group = AppGroup("groups", help="Set up peer-support groups and their peer supporters.")


@groups_group.command("sync")
def groups_sync() -> None:
    """Create the groups content/groups/ describes, and update their words."""
    from webapp.content import get_content
    from webapp.groups.services import sync_groups

    with session_scope() as session:
        made = sync_groups(session, get_content().groups)
    click.echo(f"Groups in step with content/groups/ ({len(made)} new).")


@groups_group.command("role")
@click.argument("slug")
@click.option("--email", required=True, help="The person's email address.")
@click.option(
    "--role",
    type=click.Choice(["supporter", "admin", "member"]),
    required=True,
    help="supporter (moderates the group), admin (hears appeals) or member.",
)
def groups_role(slug: str, email: str, role: str) -> None:
    """Make someone a peer supporter (or administrator, or plain member) of a group."""
    from webapp.groups.services import GroupError, set_role

    with session_scope() as session:
        try:
            set_role(session, slug, email, role)
        except GroupError as error:
            click.echo(f"Could not set the role: {error.message}", err=True)
            sys.exit(1)
    click.echo(f"{email} is now {role} of {slug}.")


timebank_group = AppGroup("timebank", help="Set up time banks and check their ledgers.")


@timebank_group.command("sync")
def timebank_sync() -> None:
    """Create the time banks content/timebank/ describes, and update their words and limits."""
    from webapp.content import get_content
    from webapp.timebank.services import sync_banks

    with session_scope() as session:
        made = sync_banks(session, get_content().banks)
    click.echo(f"Time banks in step with content/timebank/ ({len(made)} new).")


@timebank_group.command("role")
@click.argument("slug")
@click.option("--email", required=True, help="The person's email address.")
@click.option(
    "--role",
    type=click.Choice(["coordinator", "member"]),
    required=True,
    help="coordinator (approves members, settles, reports) or member.",
)
def timebank_role(slug: str, email: str, role: str) -> None:
    """Make someone a coordinator (or a plain member) of a time bank."""
    from webapp.timebank.services import TimebankError, set_role

    with session_scope() as session:
        person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
        if person is None:
            click.echo("Could not set the role: nobody has that email address.", err=True)
            sys.exit(1)
        try:
            set_role(session, slug, person.id, person.name.split()[0], role)
        except (TimebankError, NotFound):
            click.echo(f"Could not set the role: there is no time bank {slug!r}.", err=True)
            sys.exit(1)
    click.echo(f"{email} is now {role} of {slug}.")


@timebank_group.command("check")
def timebank_check() -> None:
    """Check every ledger: pairs summing to zero, balances and running balances equal to the
    entries; exit 1 and say what is wrong if anything is."""
    from webapp.timebank.ledger import check

    with session_scope() as session:
        problems = check(session)
    for problem in problems:
        click.echo(f"ledger: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("The time-bank ledger balances.")


def _invite(practice_id: int, name: str, email: str, role: str, nhs_number: str = "") -> None:
    """Create an invitation and print its link and code, or the problem and exit 1."""
    with session_scope() as session:
        try:
            invitation, token, code = services.create_invitation(
                session, None, practice_id, name, email, role=role, nhs_number=nhs_number
            )
        except AccountError as error:
            click.echo(f"Could not invite {name}: {error.message}", err=True)
            sys.exit(1)
        click.echo(
            f"Invitation for {invitation.name} as {role} "
            f"(expires {invitation.expires_at:%d %B %Y}):"
        )
        click.echo(f"  link: {public_url('accounts.join_link', token=token)}")
        click.echo(f"  code: {code}  (typed at {public_url('accounts.join')})")


@invite.command("patient")
@click.option("--practice", "practice_id", type=int, required=True, help="The practice's number.")
@click.option("--name", required=True, help="The patient's name.")
@click.option("--email", default="", help="The patient's email address (optional).")
@click.option("--nhs-number", default="", help="The patient's NHS number (optional).")
def invite_patient(practice_id: int, name: str, email: str, nhs_number: str) -> None:
    """Invite a patient to a practice and print the link and code to give them."""
    _invite(practice_id, name, email, Role.PATIENT, nhs_number)


@invite.command("staff")
@click.option("--practice", "practice_id", type=int, required=True, help="The practice's number.")
@click.option("--name", required=True, help="The staff member's name.")
@click.option("--email", default="", help="Their email address (optional).")
@click.option(
    "--role",
    type=click.Choice(["clinician", "admin", "commissioner"]),
    required=True,
    help="clinician (sees shared records), admin (practice team) or commissioner (outcomes only).",
)
def invite_staff(practice_id: int, name: str, email: str, role: str) -> None:
    """Invite a member of a practice's staff and print the link and code to give them."""
    _invite(practice_id, name, email, role)


@practice_group.command("add")
@click.argument("name")
@click.option("--ods", "ods_code", default=None, help="The practice's ODS code (optional).")
def practice_add(name: str, ods_code: str | None) -> None:
    """Add a practice and print its number (used by `flask invite`)."""
    with session_scope() as session:
        try:
            practice = services.create_practice(session, name, ods_code)
        except AccountError as error:
            click.echo(f"Could not add the practice: {error.message}", err=True)
            sys.exit(1)
        click.echo(f"Practice {practice.id}: {practice.name}")


@practice_group.command("hours")
@click.argument("practice_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("hours", required=False)
@click.option(
    "--bank-holidays/--no-bank-holidays",
    default=None,
    help="Whether the practice is closed on England's bank holidays (it is, unless told).",
)
def practice_hours(practice_id: int, hours: str | None, bank_holidays: bool | None) -> None:
    """Show or set a practice's working hours, like "mon-fri 08:00-18:30" (UK times)."""
    from webapp.contact.hours import HoursError

    with session_scope() as session:
        try:
            practice = contact.set_working_hours(session, practice_id, hours, bank_holidays)
        except HoursError as error:
            click.echo(f"Could not set the hours: {error}", err=True)
            sys.exit(1)
        if practice is None:
            click.echo(f"There is no practice {practice_id}.", err=True)
            sys.exit(1)
        closed = "closed" if practice.closed_on_bank_holidays else "open as usual"
        click.echo(f"{practice.name}: {practice.working_hours}; {closed} on bank holidays")


@content_group.command("check")
def content_check() -> None:
    """Check every file in content/ and name the file and line of each problem."""
    root = Path(current_app.config.get("CONTENT_DIR", content.CONTENT_DIR))
    loaded, errors = content.load(root)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        click.echo(f"{len(errors)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(
        f"content/ is fine: {len(loaded.pages)} pages, {len(loaded.results.tests)} tests, "
        f"{len(loaded.flows)} flow{'' if len(loaded.flows) == 1 else 's'}, "
        f"{len(loaded.conditions.conditions)} conditions."
    )


safety_group = AppGroup("safety", help="Check the crisis net.")


@safety_group.command("check")
@click.option("--show", is_flag=True, help="Also print each sentence missed or stopped.")
@click.option(
    "--gate",
    multiple=True,
    metavar="SET",
    help="Exit 1 only when this set misses a bar (repeatable; default: every set). Every "
    "set is measured and printed either way.",
)
def safety_check(show: bool, gate: tuple[str, ...]) -> None:
    """Measure the crisis net on content/safety's labelled sets: print recall and the
    false-alarm rate of each, and exit 1 if any set (or any set named by --gate) misses a
    bar."""
    from webapp.safety import corpus
    from webapp.safety import model as learned

    root = Path(current_app.config.get("CONTENT_DIR", content.CONTENT_DIR)) / "safety"
    phrases = content.get_content().crisis
    unknown = [name for name in gate if name not in corpus.SETS]
    if unknown:
        click.echo(
            f"No labelled set called {', '.join(unknown)}: choose from {', '.join(corpus.SETS)}.",
            err=True,
        )
        sys.exit(2)
    failed = False
    for name in corpus.SETS:
        try:
            sentences = corpus.load(root / name)
        except (LocatedError, OSError) as error:
            click.echo(f"{root / name}: {error}", err=True)
            failed = True
            continue
        result = corpus.measure(name, phrases, sentences)
        verdict = "passes" if result.passes else "FAILS"
        click.echo(
            f"{name}: recall {result.recall:.1%} ({result.caught} of {result.crises} crises), "
            f"false alarms {result.false_alarm_rate:.1%} ({result.alarms} of {result.ordinary} "
            f"ordinary): {verdict}"
        )
        if show:
            for sentence in result.missed:
                click.echo(f"  missed: {sentence}")
            for sentence in result.false_alarms:
                click.echo(f"  stopped: {sentence}")
        if not gate or name in gate:
            failed = failed or not result.passes
    if phrases.model is not None:
        figures = phrases.model.cross_validated
        click.echo(
            "Learned layer, 5-fold cross-validated on corpus.yaml and training.yaml: recall "
            f"{figures.get('recall', 0):.1%}, false alarms {figures.get('false_alarms', 0):.1%} "
            f"(threshold {phrases.model.threshold:.3f})."
        )
        if phrases.model.trained_on != learned.data_hash(root):
            click.echo("model.json is older than the data: run `flask safety train`.", err=True)
            failed = True
    click.echo(
        f"Bars: recall at least {corpus.LEAST_RECALL:.0%}, "
        f"false alarms at most {corpus.MOST_FALSE_ALARMS:.0%}."
    )
    if failed:
        sys.exit(1)


@safety_group.command("train")
def safety_train() -> None:
    """Train the crisis net's learned layer from corpus.yaml and training.yaml (never
    held-out.yaml) and write content/safety/model.json. Needs the development dependencies
    (scikit-learn); the same data always gives the same file."""
    from dataclasses import replace

    from webapp.safety import train

    root = Path(current_app.config.get("CONTENT_DIR", content.CONTENT_DIR)) / "safety"
    try:
        written, folds, found = train.train(root, replace(content.get_content().crisis, model=None))
    except ImportError:
        click.echo("Training needs scikit-learn: pip install -e '.[dev]'", err=True)
        sys.exit(1)
    except (LocatedError, OSError) as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    train.write(root / "model.json", written)
    for source in (None, *train.TRAINED_FROM):
        recall, alarms = folds.measure(found, source)
        click.echo(
            f"5-fold cross-validated on {source or 'both'}: recall {recall:.1%}, "
            f"false alarms {alarms:.1%}"
        )
    click.echo(f"Threshold {folds.threshold:.3f}; wrote {root / 'model.json'}.")


@click.command("demo")
@click.option(
    "--scale",
    type=click.Choice(list(demo_data.SCALES)),
    default="small",
    help="small: 33 people to try the app; large: 10,000 patients, to measure it.",
)
@with_appcontext
def demo(scale: str) -> None:
    """Add demo data to an empty database, and print how to sign in as each demo person."""
    with session_scope() as session:
        empty = demo_data.is_empty(session)
        if empty:
            practice = demo_data.seed(session, scale)
            click.echo(f"Demo data added ({scale}): {practice.name} (practice {practice.id}).")
        practice = session.exec(select(Practice).order_by(Practice.id)).first()
        if practice is None:
            return
        click.echo("\nSign in as a demo person at " + public_url("accounts.signin"))
        click.echo("Enter their email under 'With a link by email'; in development the link is")
        click.echo("printed here in the console. Then add a passkey from 'Your account'.")
        for name, email, _roles in demo_data.PEOPLE:
            click.echo(f"  {name:<14} {email:<19} {demo_data.CAST[email]}")
        click.echo(
            "Sasha acts for Pat from 'People I help'; Alex coordinates the Riverside time bank "
            "and supports the groups."
        )
        if empty:
            _invitation, token, code = services.create_invitation(
                session, None, practice.id, "Jordan Lee", ""
            )
            click.echo("\nA new patient can join with this invitation (single use, 14 days):")
            click.echo(f"  link: {public_url('accounts.join_link', token=token)}")
            click.echo(f"  code: {code}")
        click.echo(
            f"\nMore invitations: flask invite patient --practice {practice.id} --name 'A Person'\n"
        )


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Delete expired challenges, links, old sessions and old emails (run daily, e.g. from
    cron)."""
    with session_scope() as session:
        counts = services.purge_expired(session)
    click.echo("Purged: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")


@click.command("backup")
@with_appcontext
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
def backup(destination: Path) -> None:
    """Copy the SQLite database consistently to DESTINATION, while the app keeps running."""
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        click.echo(
            "flask backup copies SQLite databases. For PostgreSQL use pg_dump (see README.md).",
            err=True,
        )
        sys.exit(1)
    destination.parent.mkdir(parents=True, exist_ok=True)
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(destination)
        with target:
            raw.driver_connection.backup(target)  # type: ignore[union-attr]
        target.close()
    finally:
        raw.close()
    click.echo(f"Backed up to {destination} at {dt.datetime.now():%Y-%m-%d %H:%M}.")


@results_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--practice", "practice_id", type=int, required=True, help="The practice's number.")
@click.option(
    "--patient",
    "patient_id",
    type=int,
    default=None,
    help="File every result for this person (their number), whatever NHS number it carries.",
)
def results_import(file: Path, practice_id: int, patient_id: int | None) -> None:
    """Import a FHIR R4 JSON or CSV FILE of results, all or nothing; print what was imported."""
    with session_scope() as session:
        try:
            report = results.import_file(session, None, practice_id, file.read_bytes(), patient_id)
        except ImportFailed as error:
            click.echo(f"Nothing was imported from {file.name}:", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
        click.echo(report.summary())
        lines = [(result, "") for result in report.added]
        lines += [(r, f" corrected, it was {r.corrected_from}") for r in report.corrected]
        lines += [(result, " withdrawn (entered in error)") for result in report.withdrawn]
        for result, what in lines:
            person = session.get(Person, result.patient_id)
            click.echo(
                f"  {person.name if person else result.patient_id}: "
                f"{results.result_name(result)} {results.show_result(result)} "
                f"({result.taken_at:%d %b %Y}){what}"
            )


@results_group.command("release-due")
def results_release_due() -> None:
    """Release results whose release day has come (the clock process runs this)."""
    with session_scope() as session:
        count = results.release_due(session, dt.datetime.now(ZoneInfo("Europe/London")).date())
    click.echo(f"Released results for {count} reviews.")


# Each job: its name, what its log line says it did, and how to run it (looked up when it
# runs). Raising a waiting request to be contacted comes first: a person's safety may hang
# on it.
CLOCK_JOBS: tuple[tuple[str, str, Callable[[Session], int]], ...] = (
    (
        "contact escalation",
        "raised %d waiting contact requests to practice admins",
        lambda session: contact.escalate_due(session),
    ),
    (
        "results release",
        "released results for %d reviews",
        lambda session: results.release_due(
            session, dt.datetime.now(ZoneInfo("Europe/London")).date()
        ),
    ),
    ("reminders", "sent %d reminders", lambda session: reminders.send_due(session)),
    (
        "group push",
        "sent %d group notifications to devices",
        lambda session: group_notices.push_pending(session),
    ),
)


def _run_jobs(log: logging.Logger) -> None:
    """Run the scheduled jobs once, each in its own transaction: a job that fails is logged
    and tried again next time, and never stops the jobs after it."""
    for name, said, job in CLOCK_JOBS:
        try:
            with session_scope() as session:
                count = job(session)
        except Exception:
            log.exception("clock: the %s job failed; the others still run", name)
            continue
        if count:
            log.info("clock: " + said, count)


def _send_mail(log: logging.Logger) -> None:
    """Send the emails that are due, a batch at a time."""
    while True:
        with session_scope() as session:
            sent = mail.deliver_due(session)
        if sent:
            log.info("clock: sent %d emails", sent)
        if sent < mail.BATCH:
            return


@click.command("clock")
@click.option("--every", default=60, show_default=True, help="Seconds between runs.")
@click.option(
    "--mail-every", default=5, show_default=True, help="Seconds between looks at the outbox."
)
@click.option("--once", is_flag=True, help="Run the due jobs once and stop.")
@with_appcontext
def clock(every: int, mail_every: int, once: bool) -> None:
    """Run scheduled jobs: emails from the outbox, results released on their day, reminders
    at their time, group notifications to devices, requests to be contacted waiting a working
    day raised to the practice's admins. Keep one of these running (a second one would do no
    harm: each email, reminder and raised request is claimed before it is sent or told)."""
    log = current_app.logger
    jobs_due = 0.0
    while True:
        # Each part is logged and retried next time if it fails; the clock keeps going.
        if time.monotonic() >= jobs_due:
            jobs_due = time.monotonic() + every
            _run_jobs(log)  # each job logs its own failure and never stops the others
        try:
            _send_mail(log)
        except Exception:
            log.exception("clock: sending email failed")
        if once:
            return
        time.sleep(max(0.0, min(mail_every, jobs_due - time.monotonic())))


mail_group = AppGroup("mail", help="The email outbox: what waits, what went, what failed.")


@mail_group.command("status")
@click.option(
    "--max-wait",
    default=15,
    show_default=True,
    help="Minutes a message may wait before this counts as a problem.",
)
def mail_status(max_wait: int) -> None:
    """Count waiting, sent and failed emails and list each failure (never its words); exit 1
    if any failed or one has waited longer than --max-wait minutes."""
    with session_scope() as session:
        status = mail.mail_status(session)
    click.echo(f"Waiting: {status.waiting}. Sent: {status.sent}. Failed: {status.failed}.")
    problem = bool(status.failures)
    if status.oldest_waiting is not None:
        waited = dt.datetime.now(dt.UTC) - status.oldest_waiting
        minutes = int(waited.total_seconds() // 60)
        click.echo(
            f"Oldest waiting: since {status.oldest_waiting:%Y-%m-%d %H:%M} UTC ({minutes} minutes)."
        )
        if waited > dt.timedelta(minutes=max_wait):
            click.echo(
                f"An email has waited more than {max_wait} minutes: is `flask clock` running, "
                "and can it reach the SMTP server?",
                err=True,
            )
            problem = True
    for failure in status.failures:
        click.echo(
            f"Failed: #{failure.id} to {failure.recipient}, {failure.subject!r}, "
            f"{failure.attempts} attempts, written {failure.created_at:%Y-%m-%d %H:%M} UTC: "
            f"{failure.last_error or 'no reason given'}",
            err=True,
        )
    if problem:
        sys.exit(1)


@mail_group.command("retry")
def mail_retry() -> None:
    """Put every failed email back in the queue (after fixing what stopped it)."""
    with session_scope() as session:
        count = mail.retry_failed(session)
    click.echo(f"{count} failed emails will be tried again by the clock.")


@mail_group.command("send")
def mail_send() -> None:
    """Send the emails that are due now (the clock process does this every few seconds)."""
    with session_scope() as session:
        sent = mail.deliver_due(session)
    click.echo(f"Sent {sent} emails.")


@click.group("push")
def push_group() -> None:
    """Web Push settings."""


@push_group.command("keys")
def push_keys() -> None:
    """Make a VAPID key pair: set VAPID_PRIVATE_KEY to the first line printed."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    click.echo("VAPID_PRIVATE_KEY=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
    click.echo(
        "# public key (browsers are given it by the app): "
        + base64.urlsafe_b64encode(public).rstrip(b"=").decode()
    )


def init_app(app: Flask) -> None:
    """Register the commands with `flask`."""
    app.cli.add_command(invite)
    app.cli.add_command(content_group)
    app.cli.add_command(safety_group)
    app.cli.add_command(practice_group)
    app.cli.add_command(groups_group)
    app.cli.add_command(timebank_group)
    app.cli.add_command(demo)
    app.cli.add_command(backup)
    app.cli.add_command(purge)
    app.cli.add_command(results_group)
    app.cli.add_command(clock)
    app.cli.add_command(mail_group)
    app.cli.add_command(push_group)
