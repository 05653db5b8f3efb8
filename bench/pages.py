"""The pages every benchmark and weight test measures: the one list, grown by each part.

Each page is read as a demo person would read it ("anonymous", or a demo person's email).
Paths may name `{practice}`, the demo practice's id, `{conversation}`, Pat's check-in,
`{goal}`, Pat's first goal, and `{thread}`, `{thread_last_page}`, `{thread_poll_after}` and
`{thread_newest}` for the long group thread bench/groups.py adds. A page may send extra
request headers (the thread's polling is an htmx request, answered with a fragment).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """A page to measure: its name, its path, and who reads it."""

    name: str
    path: str
    reader: str = "anonymous"
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def fragment(self) -> bool:
        """Say whether this is an htmx request answered with part of a page."""
        return ("HX-Request", "true") in self.headers


PATIENT = "pat@example.org"
CLINICIAN = "priya@example.org"

PAGES = [
    Page("welcome", "/"),
    Page("sign in", "/account/signin"),
    Page("patient home", "/", PATIENT),
    Page("patient account", "/account", PATIENT),
    Page("clinician home", "/", CLINICIAN),
    Page("invitations", "/care-team/practices/{practice}/invitations", CLINICIAN),
    Page("reviews", "/reviews/practices/{practice}", CLINICIAN),
    # Pat has five years of results (ten readings of most tests) and one held back.
    Page("my results", "/results", PATIENT),
    Page("result explanation", "/results/tests/hba1c", PATIENT),
    Page("results letter", "/results/letter", PATIENT),
    Page("notifications", "/notifications", PATIENT),
    # Pat's check-in, part of the way through.
    Page("conversation", "/planning/conversations/{conversation}", PATIENT),
    # Pat's plan, agreed six months ago: two goals with two years of progress entries.
    Page("my goals", "/goals", PATIENT),
    Page("goal page", "/goals/{goal}", PATIENT),
    Page("my plan", "/plan", PATIENT),
    # Groups (bench/groups.py): Pat is a member of "living-with-diabetes", whose long thread has
    # 10,000 posts at large scale among 2,000 threads; the directory has 1,000 more groups.
    Page("group_page", "/groups/living-with-diabetes", PATIENT),
    Page(
        "group_thread_last_page",
        "/groups/living-with-diabetes/threads/{thread}?page={thread_last_page}",
        PATIENT,
    ),
    # What every open thread page asks every 10 s; here five replies are new.
    Page(
        "group_thread_poll",
        "/groups/living-with-diabetes/threads/{thread}/since?after={thread_poll_after}",
        PATIENT,
        (("HX-Request", "true"),),
    ),
    # The common case: nothing new since the page was drawn (204, no body).
    Page(
        "group_thread_poll_idle",
        "/groups/living-with-diabetes/threads/{thread}/since?after={thread_newest}",
        PATIENT,
        (("HX-Request", "true"),),
    ),
    Page("group_directory", "/groups", PATIENT),
    Page("group_search", "/groups?q=diab", PATIENT),
    # The time bank (bench/timebank.py): Pat has 100,000 ledger entries at large scale, among
    # 10,000 listings; a search for "walk" fills a page at both scales.
    Page("timebank_bank", "/timebank/riverside", PATIENT),
    Page("timebank_listings_search", "/timebank/riverside/listings?q=walk", PATIENT),
    Page("timebank_statement", "/timebank/riverside/statement", PATIENT),
]
