"""Time-bank pages through HTTP: joining and a coordinator's decision, offers and requests
and their search, an exchange proposed, accepted and confirmed by both sides, the statement
and its CSV, a disagreement settled by a coordinator and the report, a carer acting with the
time-bank scope (and without it), and exchanges kept from members who take no part."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlmodel import select

from tests.conftest import add_person, sign_in
from tests.timebank.helpers import AREA, CATEGORY, SLUG, coordinator, member
from webapp.accounts.services import load_actor, load_session, start_session
from webapp.carers import services as carers
from webapp.content import get_content
from webapp.timebank import routes, services
from webapp.timebank.ledger import touch
from webapp.timebank.models import BankMember, Exchange, Listing

BANK = f"/timebank/{SLUG}"
KEY = re.compile(r'name="key" value="([^"]+)"')
HEADER = ["Date", "Exchange", "Category", "With", "Kind", "Hours", "Balance", "Reason"]


@pytest.fixture(autouse=True)
def synced(app, db):
    with app.test_request_context():
        services.sync_banks(db, get_content().banks)


@pytest.fixture
def today(app):
    """Today as the routes see it (the real clock, in the app's time zone)."""
    with app.test_request_context():
        return routes.today()


@pytest.fixture
def people(app, db):
    """A coordinator, Cora, and two members, Ann and Ben."""
    with app.test_request_context():
        cora = coordinator(db)
        ann = member(db, cora, "Ann Jones", "ann@example.org")
        ben = member(db, cora, "Ben Ode", "ben@example.org")
    return cora, ann, ben


def signed_in(app, person):
    """A new client signed in as the person."""
    client = app.test_client()
    sign_in(app, client, person)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def send(client, url, whose, data=None, **kwargs):
    """Post a form as the page would, naming whose record it is for."""
    return client.form(url, {"record": str(whose), **(data or {})}, **kwargs)


def listed(client, whose, title="A cuppa and a chat", **extra) -> int:
    """List an offer through the form; return its id."""
    made = send(
        client,
        f"{BANK}/listings",
        whose,
        {
            "kind": "offer",
            "title": title,
            "description": "Happy to sit with you over tea.",
            "category": CATEGORY,
            "area": AREA,
            **extra,
        },
    )
    assert made.status_code == 303, text(made)
    return int(made.headers["Location"].rsplit("/", 1)[1])


def proposed(client, whose, listing_id, day, hours="1.5") -> int:
    """Open a listing and propose an exchange from it; return the exchange's id."""
    page = client.get(f"{BANK}/listings/{listing_id}")
    assert page.status_code == 200 and "Propose an exchange" in text(page)
    made = send(
        client,
        f"{BANK}/listings/{listing_id}/exchanges",
        whose,
        {"key": KEY.search(text(page)).group(1), "happens_on": day.isoformat(), "hours": hours},
    )
    assert made.status_code == 303, text(made)
    return int(made.headers["Location"].rsplit("/", 1)[1])


def row_with(page: str, words: str) -> str:
    """Return the table row of a page holding these words."""
    rows = [row for row in re.findall(r"<tr[ >].*?</tr>", page, re.S) if words in row]
    assert rows, f"no row with {words!r}"
    return rows[0]


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text(response))))


# --- joining -------------------------------------------------------------------------------


def test_a_person_asks_to_join_and_a_bad_area_keeps_what_they_typed(app, client, patient):
    sign_in(app, client, patient)
    banks = client.get("/timebank")
    assert banks.status_code == 200 and "Riverside time bank" in text(banks)
    shown = client.get(BANK)
    assert shown.status_code == 200
    assert "Ask to join" in text(shown) and "Choose your area" in text(shown)
    bad = send(
        client, f"{BANK}/join", patient.id, {"display_name": "Patsy", "area": "12 Mill Lane"}
    )
    page = text(bad)
    assert bad.status_code == 422
    assert "Choose your area from the list" in page and 'value="Patsy"' in page
    good = send(client, f"{BANK}/join", patient.id, {"display_name": "Patsy", "area": AREA})
    assert good.status_code == 303 and good.headers["Location"].endswith(BANK)
    after = client.get(BANK)
    assert "A coordinator will look at your request soon" in text(after)
    assert "Ask to join</button>" not in text(after)
    assert "You asked to join." in text(client.get("/timebank"))


def test_a_coordinator_approves_a_request_and_a_decline_needs_a_reason(app, client, db, patient):
    sign_in(app, client, patient)
    send(client, f"{BANK}/join", patient.id, {"display_name": "Patsy", "area": AREA})
    with app.test_request_context():
        cora = coordinator(db)
    asked = db.exec(select(BankMember).where(BankMember.person_id == patient.id)).one()
    assert asked.status == "pending"
    assert client.get(f"{BANK}/coordinate").status_code == 404  # not a coordinator
    cora_client = signed_in(app, cora.actor.person)
    page = cora_client.get(f"{BANK}/coordinate")
    assert page.status_code == 200
    assert "Requests to join" in text(page) and "Approve Patsy" in text(page)
    decide = f"{BANK}/members/{asked.id}/decide"
    no_reason = send(
        cora_client, decide, cora.actor.id, {"decision": "decline", "version": asked.version}
    )
    assert no_reason.status_code == 422 and "Say why" in text(no_reason)
    approved = send(
        cora_client,
        decide,
        cora.actor.id,
        {"decision": "approve", "version": asked.version, "note": "Checks done."},
    )
    assert approved.status_code == 303
    assert "Patsy is now a member." in text(cora_client.get(f"{BANK}/coordinate"))
    db.expire_all()
    assert db.get(BankMember, asked.id).status == "active"
    mine = text(client.get(BANK))
    assert "Your balance" in mine and "Offers and requests" in mine


# --- listings ------------------------------------------------------------------------------


def test_listing_an_offer_and_searching_and_filtering_the_listings(app, db, people, today):
    _cora, ann, ben = people
    ann_client = signed_in(app, ann.actor.person)
    bad = send(
        ann_client,
        f"{BANK}/listings",
        ann.actor.id,
        {
            "kind": "offer",
            "title": "",
            "description": "Happy to sit with you over tea.",
            "category": CATEGORY,
            "area": AREA,
        },
    )
    assert bad.status_code == 422
    assert "Give it a short title" in text(bad) and "Happy to sit with you over tea." in text(bad)
    tea = listed(ann_client, ann.actor.id, "A cuppa and a chat")
    lifts = listed(ann_client, ann.actor.id, "Lifts to the surgery")

    ben_client = signed_in(app, ben.actor.person)

    def found(query: str) -> str:
        response = ben_client.get(f"{BANK}/listings?{query}")
        assert response.status_code == 200
        return text(response)

    assert "A cuppa and a chat" in found("q=cuppa") and "Lifts to the surgery" not in found(
        "q=cuppa"
    )
    assert "Nothing matches" in found("q=gardening")
    assert "A cuppa and a chat" not in found("kind=request")
    assert "A cuppa and a chat" in found("kind=offer")
    assert "A cuppa and a chat" in found("category=company")
    assert "A cuppa and a chat" not in found("category=shopping")
    assert "A cuppa and a chat" in found("area=Riverside")
    assert "A cuppa and a chat" not in found("area=Northfield")
    assert "Lifts to the surgery" in found("")

    # Changed behind the app's back (as the day turning would): the bank's version moves, as
    # every change through the app moves it, so kept pages are drawn again.
    ended = db.get(Listing, lifts)
    ended.ends_on = today - dt.timedelta(days=1)
    db.add(ended)
    touch(db, ended.bank_id)
    db.commit()
    everything = found("")
    assert "Lifts to the surgery" not in everything and "A cuppa and a chat" in everything
    gone = ben_client.get(f"{BANK}/listings/{lifts}")
    assert "This is no longer listed." in text(gone) and "Propose an exchange" not in text(gone)
    assert db.get(Listing, tea).status == "open"


# --- an exchange from proposal to statement -------------------------------------------------


def test_an_exchange_proposed_accepted_and_confirmed_moves_hours_onto_the_statement(
    app, db, people, today
):
    _cora, ann, ben = people
    ann_client, ben_client = signed_in(app, ann.actor.person), signed_in(app, ben.actor.person)
    offer = listed(ann_client, ann.actor.id)
    page = ben_client.get(f"{BANK}/listings/{offer}")
    key = KEY.search(text(page)).group(1)
    form = {"key": key, "happens_on": today.isoformat()}
    bad = send(
        ben_client, f"{BANK}/listings/{offer}/exchanges", ben.actor.id, {**form, "hours": "1.3"}
    )
    assert bad.status_code == 422
    assert "quarter hours" in text(bad) and 'value="1.3"' in text(bad)
    assert db.exec(select(Exchange)).all() == []
    made = send(
        ben_client, f"{BANK}/listings/{offer}/exchanges", ben.actor.id, {**form, "hours": "1.5"}
    )
    assert made.status_code == 303
    exchange_id = int(made.headers["Location"].rsplit("/", 1)[1])
    assert made.headers["Location"].endswith(f"{BANK}/exchanges/{exchange_id}")
    url = f"{BANK}/exchanges/{exchange_id}"
    shown = ben_client.get(url)
    assert shown.status_code == 200 and "Proposed. You will hear" in text(shown)
    assert "Waiting for the other member to answer." in text(shown)

    assert "Your answer" in text(ann_client.get(url))
    accepted = send(ann_client, f"{url}/answer", ann.actor.id, {"answer": "accept"})
    assert accepted.status_code == 303
    assert "Accepted. After it has happened" in text(ann_client.get(url))

    first = send(ann_client, f"{url}/confirm", ann.actor.id, {"hours": "1.5", "happened": "yes"})
    assert first.status_code == 303
    assert "It waits for the other member to confirm." in text(ann_client.get(url))
    second = send(
        ben_client,
        f"{url}/confirm",
        ben.actor.id,
        {"hours": "1.5", "happened": "yes"},
        follow_redirects=True,
    )
    done = text(second)
    assert second.status_code == 200
    assert "You both agree, so 1½ hours moved." in done and "Confirmed by both" in done
    assert "Hours moved" in done

    statement = ann_client.get(f"{BANK}/statement")
    page = text(statement)
    assert statement.status_code == 200
    assert "Balance: 1½ hours" in page
    line = row_with(page, "A cuppa and a chat")
    assert "+1½" in line and "Ben" in line
    assert "Balance: −1½ hours" in text(ben_client.get(f"{BANK}/statement"))

    download = ann_client.get(f"{BANK}/statement.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = rows_of(download)
    assert rows[0] == HEADER
    title, category, other, kind, hours, balance, reason = rows[1][1:]
    assert (title, category, other, kind) == (
        "A cuppa and a chat",
        "Company and a chat",
        "Ben",
        "exchange",
    )
    assert (hours, balance, reason) == ("1.50", "1.50", "")
    assert rows[1][0] == today.isoformat()
    assert rows_of(ben_client.get(f"{BANK}/statement.csv"))[1][5:7] == ["-1.50", "-1.50"]


def test_a_title_a_spreadsheet_would_run_is_written_as_words_in_the_csv(app, people, today):
    _cora, ann, ben = people
    ann_client, ben_client = signed_in(app, ann.actor.person), signed_in(app, ben.actor.person)
    offer = listed(ann_client, ann.actor.id, "=SUM(A1:A9) tea")
    url = f"{BANK}/exchanges/{proposed(ben_client, ben.actor.id, offer, today, '1')}"
    send(ann_client, f"{url}/answer", ann.actor.id, {"answer": "accept"})
    send(ann_client, f"{url}/confirm", ann.actor.id, {"hours": "1"})
    send(ben_client, f"{url}/confirm", ben.actor.id, {"hours": "1"})
    rows = rows_of(ann_client.get(f"{BANK}/statement.csv"))
    assert rows[1][1] == "'=SUM(A1:A9) tea" and rows[1][5:7] == ["1.00", "1.00"]


# --- a disagreement -------------------------------------------------------------------------


def test_hours_that_differ_are_settled_by_a_coordinator_and_reported(app, people, today):
    cora, ann, ben = people
    ann_client, ben_client = signed_in(app, ann.actor.person), signed_in(app, ben.actor.person)
    cora_client = signed_in(app, cora.actor.person)
    offer = listed(ann_client, ann.actor.id, "A walk and a chat")
    url = f"{BANK}/exchanges/{proposed(ben_client, ben.actor.id, offer, today, '1')}"
    send(ann_client, f"{url}/answer", ann.actor.id, {"answer": "accept"})
    send(ann_client, f"{url}/confirm", ann.actor.id, {"hours": "2"})
    differ = send(ben_client, f"{url}/confirm", ben.actor.id, {"hours": "1"}, follow_redirects=True)
    assert "Hours differ" in text(differ) and "a coordinator will settle it" in text(differ)

    waiting = text(cora_client.get(f"{BANK}/coordinate"))
    assert "A walk and a chat" in waiting and "The hours differ: settle" in waiting
    seen = cora_client.get(url)
    assert seen.status_code == 200 and "For coordinators" in text(seen)
    no_reason = send(cora_client, f"{url}/settle", cora.actor.id, {"hours": "1.5", "reason": ""})
    assert no_reason.status_code == 422 and "Say why" in text(no_reason)
    settled = send(
        cora_client,
        f"{url}/settle",
        cora.actor.id,
        {"hours": "1.5", "reason": "Spoke to both"},
        follow_redirects=True,
    )
    page = text(settled)
    assert "Settled. Both members have been told." in page
    assert "Settled by a coordinator" in page and "Spoke to both" in page
    assert "Nothing to agree or settle." in text(cora_client.get(f"{BANK}/coordinate"))

    month = today.strftime("%Y-%m")
    report = cora_client.get(f"{BANK}/report")
    shown = text(report)
    assert report.status_code == 200
    assert "Hours exchanged in the last 12 months: 1½ hours" in shown
    line = row_with(shown, "Company and a chat")
    assert re.search(r">1\.50?<", line)  # the hours as a decimal
    assert month in shown or today.strftime("%B %Y") in shown
    assert ann_client.get(f"{BANK}/report").status_code == 404  # members see no report
    download = cora_client.get(f"{BANK}/report.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = rows_of(download)
    assert rows[0][0] == "Hours by category" and rows[0][-2:] == [month, "Total"]
    company = next(row for row in rows if row and row[0] == "Company and a chat")
    assert company[rows[0].index(month)] == "1.50" and company[-1] == "1.50"
    every = next(row for row in rows if row and row[0] == "All categories")
    assert every[-1] == "1.50"


# --- carers ----------------------------------------------------------------------------------


def acting_client(app, db, carer, grant_id):
    """Sign the carer in and start acting under the grant in that session."""
    client = app.test_client()
    with app.test_request_context():
        token = start_session(db, carer, "test")
        carers.start_acting(db, load_session(db, token), grant_id)
    with client.session_transaction() as browser:
        browser["_user_id"] = token
        browser["_fresh"] = True
    return client


def invited(app, db, patient, carer, scopes):
    """Invite the carer for the patient with these scopes and accept; return the grant."""
    with app.test_request_context():
        grant, token, _code = carers.invite_carer(
            db, load_actor(db, patient), patient.id, {"name": carer.name}, list(scopes)
        )
        carers.accept(db, load_actor(db, carer), token=token)
    return grant


def joined(app, db, cora, patient) -> BankMember:
    """Make the patient a member, as Patsy; return the membership."""
    with app.test_request_context():
        pat = load_actor(db, patient)
        asked = services.ask_to_join(
            db, pat, SLUG, {"display_name": "Patsy", "area": AREA}, get_content().banks[SLUG]
        )
        return services.decide_request(db, cora.actor, SLUG, asked.id, True, asked.version)


def test_a_carer_with_the_time_bank_scope_uses_it_for_the_person(app, db, patient, people, today):
    cora, ann, _ben = people
    asked = joined(app, db, cora, patient)
    offer = listed(signed_in(app, ann.actor.person), ann.actor.id)
    sam = add_person(db, "Sam Lee", "sam@example.org")
    grant = invited(app, db, patient, sam, ["timebank"])
    sam_client = acting_client(app, db, sam, grant.id)

    assert sam_client.get("/timebank").status_code == 200
    shown = sam_client.get(BANK)
    page = text(shown)
    assert shown.status_code == 200
    assert "You are helping Pat Morgan" in page and "Offers and requests" in page
    exchange_id = proposed(sam_client, patient.id, offer, today, "1")
    made = db.get(Exchange, exchange_id)
    assert made.receiver_id == asked.id and made.proposed_by_id == sam.id
    assert "Proposed" in text(sam_client.get(f"{BANK}/exchanges/{exchange_id}"))

    pat_client = signed_in(app, patient)
    activity = text(pat_client.get("/account/my-data"))
    assert "Sam Lee" in activity and "your carer" in activity
    assert "looked at your time bank" in activity
    assert "traded or made a change in the time bank for you" in activity


def test_a_carer_sees_the_persons_balance_named_as_theirs(app, db, patient, people):
    joined(app, db, people[0], patient)
    sam = add_person(db, "Sam Lee", "sam@example.org")
    sam_client = acting_client(app, db, sam, invited(app, db, patient, sam, ["timebank"]).id)
    page = text(sam_client.get(BANK))
    assert "Your balance" not in page
    assert re.search(r"Pat Morgan(&#39;|')s balance", page)


def test_a_carer_without_the_time_bank_scope_finds_no_time_bank(app, db, patient):
    gus = add_person(db, "Gus Hill", "gus@example.org")
    grant = invited(app, db, patient, gus, ["goals"])
    gus_client = acting_client(app, db, gus, grant.id)
    assert gus_client.get("/timebank").status_code == 404
    assert gus_client.get(BANK).status_code == 404


# --- who sees an exchange --------------------------------------------------------------------


def test_a_member_who_takes_no_part_never_sees_someone_elses_exchange(app, db, people, today):
    cora, ann, ben = people
    with app.test_request_context():
        cal = member(db, cora, "Cal Roy", "cal@example.org")
    ann_client, ben_client = signed_in(app, ann.actor.person), signed_in(app, ben.actor.person)
    offer = listed(ann_client, ann.actor.id)
    url = f"{BANK}/exchanges/{proposed(ben_client, ben.actor.id, offer, today)}"
    cal_client = signed_in(app, cal.actor.person)
    assert cal_client.get(url).status_code == 404
    refused = send(cal_client, f"{url}/answer", cal.actor.id, {"answer": "accept"})
    assert refused.status_code == 404
    assert ann_client.get(url).status_code == 200
    assert signed_in(app, cora.actor.person).get(url).status_code == 200  # a coordinator


def test_kept_pages_show_every_change_at_the_next_visit(app, db, people, today):
    _cora, ann, ben = people
    ann_client = signed_in(app, ann.actor.person)
    ben_client = signed_in(app, ben.actor.person)
    pages = [BANK, f"{BANK}/listings", f"{BANK}/statement"]
    for page in pages:  # drawn and kept
        assert ann_client.get(page).status_code == 200
        assert ann_client.get(page).status_code == 200
    offer = listed(ben_client, ben.actor.id, title="Lifts to the surgery")
    assert "Lifts to the surgery" in text(ann_client.get(f"{BANK}/listings"))
    page = text(ann_client.get(f"{BANK}/listings/{offer}"))
    key = KEY.search(page).group(1)
    made = send(
        ann_client,
        f"{BANK}/listings/{offer}/exchanges",
        ann.actor.id,
        {"hours": "1", "happens_on": today.isoformat(), "key": key},
    )
    assert made.status_code == 303
    exchange_id = db.exec(select(Exchange.id)).one()
    assert "Waiting for you" in text(ben_client.get(BANK))
    send(ben_client, f"{BANK}/exchanges/{exchange_id}/answer", ben.actor.id, {"answer": "accept"})
    for client, whose in ((ann_client, ann.actor.id), (ben_client, ben.actor.id)):
        send(client, f"{BANK}/exchanges/{exchange_id}/confirm", whose, {"hours": "1"})
    statement = text(ann_client.get(f"{BANK}/statement"))
    assert "Balance: −1 hour" in statement and "Ben" in statement
    listed_exchanges = text(ann_client.get(f"{BANK}/exchanges"))
    assert "Lifts to the surgery" in listed_exchanges and "Confirmed by both" in listed_exchanges
    assert "Waiting for you" not in text(ben_client.get(BANK))
    # A new name shows on the statement of the other side.
    send(
        ben_client,
        f"{BANK}/profile",
        ben.actor.id,
        {"display_name": "Benjamin", "area": AREA},
    )
    assert "Benjamin" in text(ann_client.get(f"{BANK}/statement"))


def test_refusals_are_said_where_they_can_be_read(app, db, people, today):
    cora, ann, ben = people
    ann_client, ben_client = signed_in(app, ann.actor.person), signed_in(app, ben.actor.person)
    cora_client = signed_in(app, cora.actor.person)
    offer = listed(ann_client, ann.actor.id)
    page = text(ben_client.get(f"{BANK}/listings/{offer}"))
    send(ann_client, f"{BANK}/listings/{offer}/close", ann.actor.id)
    late = send(
        ben_client,
        f"{BANK}/listings/{offer}/exchanges",
        ben.actor.id,
        {"key": KEY.search(page).group(1), "happens_on": today.isoformat(), "hours": "1"},
    )
    assert late.status_code == 422
    assert "This listing has ended" in text(late) and 'href="#main"' in text(late)
    # A coordinator settling without a reason is sent to the reason they must give.
    other = listed(ann_client, ann.actor.id, title="Another")
    url = f"{BANK}/exchanges/{proposed(ben_client, ben.actor.id, other, today, '1')}"
    send(ann_client, f"{url}/answer", ann.actor.id, {"answer": "accept"})
    send(ann_client, f"{url}/confirm", ann.actor.id, {"hours": "2"})
    send(ben_client, f"{url}/confirm", ben.actor.id, {"hours": "1"})
    refused = send(cora_client, f"{url}/settle", cora.actor.id, {"hours": "1"})
    assert refused.status_code == 422 and 'href="#settle-reason"' in text(refused)
    assert 'id="settle-reason"' in text(refused)
    # Numbers out of any range are "not found", or the newest page, never an error.
    assert ben_client.get(f"{BANK}/exchanges/99999999999999999999").status_code == 404
    assert ben_client.get(f"{BANK}/statement?before=99999999999999999999").status_code == 200
    # A removed member is told so, without a form that would only be refused.
    member_id = db.exec(select(BankMember.id).where(BankMember.person_id == ben.actor.id)).one()
    send(cora_client, f"{BANK}/members/{member_id}/remove", cora.actor.id, {"reason": "Unkind"})
    removed = text(ben_client.get(BANK))
    assert "A coordinator removed you" in removed and "Unkind" in removed
    assert "Ask to join</button>" not in removed


def test_a_carer_who_is_a_member_is_offered_no_form_to_trade_with_the_person(
    app, db, patient, people, today
):
    cora, _ann, _ben = people
    joined(app, db, cora, patient)
    with app.test_request_context():
        sam = member(db, cora, "Sam Lee", "sam@example.org")
    sam_own = signed_in(app, sam.actor.person)
    offer = listed(sam_own, sam.actor.id, title="Lifts to the surgery")
    pat_client = signed_in(app, patient)
    url = f"{BANK}/exchanges/{proposed(pat_client, patient.id, offer, today, '1')}"
    acting = acting_client(
        app, db, sam.actor.person, invited(app, db, patient, sam.actor.person, ["timebank"]).id
    )

    listing = text(acting.get(f"{BANK}/listings/{offer}"))
    assert "You made this listing yourself" in listing
    assert "Propose an exchange" not in listing
    exchange = text(acting.get(url))
    assert "you cannot answer it for the person you help" in exchange
    assert "Withdraw the proposal" not in exchange and "Your answer" not in exchange
    # As himself, Sam answers his side as any member would.
    assert "Your answer" in text(sam_own.get(url))


def test_a_former_member_reads_their_statement_without_links_into_the_bank(app, db, people, today):
    _cora, ann, ben = people
    ann_client, ben_client = signed_in(app, ann.actor.person), signed_in(app, ben.actor.person)
    offer = listed(ann_client, ann.actor.id)
    url = f"{BANK}/exchanges/{proposed(ben_client, ben.actor.id, offer, today, '1')}"
    send(ann_client, f"{url}/answer", ann.actor.id, {"answer": "accept"})
    send(ann_client, f"{url}/confirm", ann.actor.id, {"hours": "1"})
    send(ben_client, f"{url}/confirm", ben.actor.id, {"hours": "1"})
    assert send(ben_client, f"{BANK}/leave", ben.actor.id).status_code == 303

    bank = text(ben_client.get(BANK))
    assert "You left this time bank" in bank and "Statement from when you were a member" in bank
    statement = ben_client.get(f"{BANK}/statement")
    page = text(statement)
    assert statement.status_code == 200
    assert "You are no longer a member of Riverside time bank" in page
    assert "Balance: −1 hour" in page and "A cuppa and a chat" in page
    assert url not in page  # the exchange itself is for members
    assert ben_client.get(url).status_code == 404
    assert rows_of(ben_client.get(f"{BANK}/statement.csv"))[1][5:7] == ["-1.00", "-1.00"]
    # Someone who only asked, and withdrew, has no statement.
    cal_person = add_person(db, "Cal Roy", "cal@example.org")
    with app.test_request_context():
        services.ask_to_join(
            db,
            load_actor(db, cal_person),
            SLUG,
            {"display_name": "Cal", "area": AREA},
            get_content().banks[SLUG],
        )
    cal_client = signed_in(app, cal_person)
    send(cal_client, f"{BANK}/leave", cal_person.id)
    assert cal_client.get(f"{BANK}/statement").status_code == 404
    assert "Statement from when" not in text(cal_client.get(BANK))


def test_saving_a_listing_taken_off_says_it_is_listed_again(app, db, people):
    _cora, ann, _ben = people
    ann_client = signed_in(app, ann.actor.person)
    offer = listed(ann_client, ann.actor.id)
    send(ann_client, f"{BANK}/listings/{offer}/close", ann.actor.id)
    form = text(ann_client.get(f"{BANK}/listings/{offer}/edit"))
    assert "You took this off the listings. Saving lists it again." in form
    assert "Save and list it again" in form
    saved = send(
        ann_client,
        f"{BANK}/listings/{offer}",
        ann.actor.id,
        {
            "kind": "offer",
            "title": "Tea and a chat",
            "description": "Happy to sit with you over tea.",
            "category": CATEGORY,
            "area": AREA,
        },
        follow_redirects=True,
    )
    assert "Your changes are saved and it is listed again." in text(saved)
    assert db.get(Listing, offer).status == "open"


def test_a_coordinators_refused_decision_keeps_what_they_typed_and_says_when_too_late(
    app, db, people, patient
):
    cora, _ann, _ben = people
    with app.test_request_context():
        asked = services.ask_to_join(
            db,
            load_actor(db, patient),
            SLUG,
            {"display_name": "Patsy", "area": AREA},
            get_content().banks[SLUG],
        )
        other = coordinator(db, "Oli Park", "oli@example.org")
    cora_client = signed_in(app, cora.actor.person)
    decide = f"{BANK}/members/{asked.id}/decide"
    form = {"decision": "decline", "version": asked.version, "note": "Met at the cafe."}
    refused = send(cora_client, decide, cora.actor.id, form)
    page = text(refused)
    assert refused.status_code == 422
    assert f'href="#reason-{asked.id}"' in page and "Say why" in page
    assert "Met at the cafe.</textarea>" in page
    assert f'id="reason-{asked.id}-error"' in page
    # Another coordinator decides first: the late one is told, at the top of the page.
    send(
        signed_in(app, other.actor.person), decide, other.actor.id, {**form, "decision": "approve"}
    )
    late = send(cora_client, decide, cora.actor.id, {**form, "reason": "Too far away"})
    page = text(late)
    assert late.status_code == 422
    assert "a moment ago" in page and 'href="#requests-heading"' in page


def test_a_listing_says_who_gives_and_who_receives_in_words_that_read_for_both(app, people):
    _cora, ann, ben = people
    ann_client, ben_client = signed_in(app, ann.actor.person), signed_in(app, ben.actor.person)
    offer = listed(ann_client, ann.actor.id, title="A lift to the surgery")
    wanted = listed(ann_client, ann.actor.id, title="Help with my garden", kind="request")
    offered = text(ben_client.get(f"{BANK}/listings/{offer}"))
    asked = text(ben_client.get(f"{BANK}/listings/{wanted}"))
    assert "Ann gives the help and you receive it." in offered
    assert "You give the help and Ann receives it." in asked
    assert "you receives" not in offered + asked and "you gives" not in offered + asked
