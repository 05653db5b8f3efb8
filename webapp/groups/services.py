"""Groups without HTTP: display names, the directory, joining and leaving, and peer
supporters approving or declining people who asked to join.

Groups are always the signed-in person's own: a carer acting for someone never sees that
person's groups (access rule "groups.take_part"), and nobody's health record is shown here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.db import utcnow
from webapp.groups.models import Membership, ModAction, PeerGroup, PeerProfile
from webapp.groups.spec import GroupSpec
from webapp.groups.text import plain_line

NAME_MIN, NAME_MAX = 2, 30
# Letters of any script, marks that belong to them, digits, spaces and a little punctuation.
NAME_PUNCTUATION = set(" .-'_")
PAGE_SIZE = 20
STAFF_OF_GROUP = ("supporter", "admin")


class GroupError(ValueError):
    """Something the person can put right; the message says what and how."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Characters that show nothing (Unicode's default-ignorable code points, and the Hangul
# fillers): refused in names, as they let two names look the same.
IGNORABLE = [
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]
# Letters of other scripts that look like Latin ones: names are compared by these.
LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝмтнвкгпиьАВЕКМНОРСТУХІЈЅαβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwmthbkrnubabekmhopctyxijsabeiknoptuxabezhikmnoptyx",
)
# Scripts that are written together in one name.
TOGETHER = {"CJK": "CJK", "HIRAGANA": "CJK", "KATAKANA": "CJK"}
# Names that would pass for the app or a role (compared as skeletons).
RESERVED = (
    "a former member",
    "coproduce",
    "peer supporter",
    "moderator",
    "administrator",
    "admin",
    "nhs",
    "care team",
)
MARKS_PER_LETTER = 2


def _ignorable(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in IGNORABLE)


def _script(char: str) -> str | None:
    """Name the script of a letter (LATIN, CYRILLIC, ...), None for anything else."""
    if unicodedata.category(char)[0] != "L":
        return None
    word = unicodedata.name(char, "UNKNOWN").split()[0]
    return TOGETHER.get(word, word)


def skeleton(name: str) -> str:
    """Return what a name looks like, for comparing: accents, case, look-alike letters from
    other scripts, small capitals, spaces and punctuation all set aside."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name) if unicodedata.category(c)[0] != "M"
    )
    letters = []
    for char in plain.casefold().translate(LOOKALIKES):
        described = unicodedata.name(char, "")
        if "SMALL CAPITAL" in described:
            char = described.rsplit(" ", 1)[-1].lower()
        letters.append(char)
    return re.sub(r"[\s._'-]+", "", "".join(letters))


def check_display_name(text: str) -> tuple[str, str]:
    """Return a display name as shown and its key for uniqueness, or raise GroupError.

    Invisible and direction-changing characters are refused, not silently removed, so what a
    person sees is exactly what others see; so are names mixing scripts, piles of accents,
    and names that look like another's or like the app's own labels.
    """
    name = unicodedata.normalize("NFKC", text)
    name = " ".join(name.split())
    hidden = _(
        "Your display name has a hidden character in it (for example one that changes the "
        "writing direction). Type it again using only letters, numbers and spaces."
    )
    marks = 0
    for char in name:
        category = unicodedata.category(char)
        if _ignorable(char) or category in ("Cf", "Cc", "Co", "Cn", "Zl", "Zp"):
            raise GroupError(hidden, "display_name")
        if category[0] == "M":
            marks += 1
            if marks > MARKS_PER_LETTER:
                raise GroupError(
                    _("A letter in your display name carries too many accents. Type it again."),
                    "display_name",
                )
            continue
        marks = 0
        if category[0] in "LN" or char in NAME_PUNCTUATION:
            continue
        raise GroupError(
            _(
                "A display name can use letters, numbers, spaces, full stops, hyphens, "
                "apostrophes and underscores. Take out %(char)s and try again.",
                char=f"\u201c{char}\u201d",
            ),
            "display_name",
        )
    if len(name) < NAME_MIN:
        raise GroupError(
            _("Choose a display name of at least %(n)d characters.", n=NAME_MIN), "display_name"
        )
    if len(name) > NAME_MAX:
        raise GroupError(
            _("A display name can be at most %(n)d characters.", n=NAME_MAX), "display_name"
        )
    if not any(unicodedata.category(c)[0] in "LN" for c in name):
        raise GroupError(_("A display name needs a letter or a number."), "display_name")
    scripts = {script for c in name if (script := _script(c))}
    if len(scripts) > 1:
        raise GroupError(
            _(
                "Your display name mixes letters from different alphabets, which can make it "
                "look like someone else's. Use letters from one alphabet."
            ),
            "display_name",
        )
    key = skeleton(name)
    if key in {skeleton(label) for label in RESERVED}:
        raise GroupError(_("That name is kept for the app itself. Choose another."), "display_name")
    if not key or len(key) > 120:
        raise GroupError(_("Choose a different display name."), "display_name")
    return name, key


def profile(session: Session, actor: Actor) -> PeerProfile | None:
    """Return how the person appears in groups, if they have chosen a name yet."""
    require(actor, "groups.take_part", actor.id)
    return session.exec(select(PeerProfile).where(PeerProfile.person_id == actor.id)).first()


def set_display_name(
    session: Session, actor: Actor, text: str, push_replies: bool | None = None
) -> PeerProfile:
    """Choose or change the name the person takes part under, unique across groups (and,
    when given, whether replies and mentions also go to their devices)."""
    require(actor, "groups.take_part", actor.id)
    name, key = check_display_name(text)
    taken = session.exec(select(PeerProfile.person_id).where(PeerProfile.name_key == key)).first()
    if taken is not None and taken != actor.id:
        raise GroupError(
            _("Someone already uses that display name, or one very like it. Choose another."),
            "display_name",
        )
    found = session.exec(select(PeerProfile).where(PeerProfile.person_id == actor.id)).first()
    if found is None:
        found = PeerProfile(person_id=actor.id, display_name=name, name_key=key)
    else:
        found.display_name, found.name_key, found.updated_at = name, key, utcnow()
    if push_replies is not None:
        found.push_replies = push_replies
    session.add(found)
    from webapp.groups.threads import touch_author_threads

    touch_author_threads(session, actor.id)
    audit.record(session, actor.id, "groups.display_name", actor.id)
    try:
        session.commit()
    except IntegrityError:  # someone took the same name at the same moment
        session.rollback()
        raise GroupError(
            _("Someone already uses that display name, or one very like it. Choose another."),
            "display_name",
        ) from None
    return found


def set_role(session: Session, slug: str, email: str, role: str) -> Membership:
    """Give someone a role in a group, with the operator's authority (the command line).

    They become an active member if they were not one; they need a display name first.
    """
    from webapp.accounts.models import Person

    group = session.exec(select(PeerGroup).where(PeerGroup.slug == slug)).first()
    if group is None:
        raise GroupError(_("There is no group with that address."))
    person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
    if person is None:
        raise GroupError(_("Nobody has an account with that email address."))
    if session.exec(select(PeerProfile).where(PeerProfile.person_id == person.id)).first() is None:
        raise GroupError(_("They need to choose a display name in Groups first."))
    member = session.exec(
        select(Membership).where(Membership.group_id == group.id, Membership.person_id == person.id)
    ).first()
    now = utcnow()
    if member is None:
        member = Membership(group_id=group.id, person_id=person.id, status="active", joined_at=now)
    member.role, member.status = role, "active"
    member.joined_at = member.joined_at or now
    member.version += 1
    session.add(member)
    audit.record(session, None, "groups.role", person.id, group=slug, role=role)
    session.commit()
    return member


def sync_groups(session: Session, specs: dict[str, GroupSpec]) -> list[str]:
    """Create the groups content describes and update their words; return the new slugs.

    Settings peer supporters change (slow mode, holding first posts) are set only when a
    group is made, so a sync never undoes what a moderator chose.
    """
    made = []
    existing = {g.slug: g for g in session.exec(select(PeerGroup))}
    for slug, spec in specs.items():
        group = existing.get(slug)
        if group is None:
            group = PeerGroup(
                slug=slug,
                name=spec.name,
                description=spec.description,
                kind=spec.kind,
                slow_mode_minutes=spec.slow_mode_minutes,
                hold_first_posts=spec.hold_first_posts,
            )
            made.append(slug)
        else:
            group.name, group.description, group.kind = spec.name, spec.description, spec.kind
        session.add(group)
    session.commit()
    return made


@dataclass
class Listed:
    """A group in the directory, with how many take part and the viewer's place in it."""

    group: PeerGroup
    members: int
    status: str | None  # the viewer's membership status, if any


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def directory(
    session: Session, actor: Actor | None, query: str = "", page: int = 1
) -> tuple[list[Listed], bool]:
    """Return a page of groups (names and what they are for are public), searchable by name
    or description, and whether there is another page."""
    # Counted for the listed groups only, from the membership index.
    members = (
        select(func.count(Membership.id))
        .where(col(Membership.group_id) == PeerGroup.id, col(Membership.status) == "active")
        .correlate(PeerGroup)
        .scalar_subquery()
    )
    statement = select(PeerGroup, members)
    words = plain_line(query, 80)
    if words:
        pattern = f"%{_escape_like(words.lower())}%"
        statement = statement.where(
            func.lower(PeerGroup.name).like(pattern, escape="\\")
            | func.lower(PeerGroup.description).like(pattern, escape="\\")
        )
    rows = session.exec(
        statement.order_by(PeerGroup.name, PeerGroup.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    mine: dict[int, str] = {}
    if actor is not None and actor.acting is None and rows:
        mine = dict(
            session.exec(
                select(Membership.group_id, Membership.status).where(
                    Membership.person_id == actor.id,
                    col(Membership.group_id).in_([g.id for g, _n in rows]),
                )
            ).all()
        )
    return [Listed(group, members, mine.get(group.id)) for group, members in rows], more


def get_group(session: Session, slug: str) -> PeerGroup:
    """Return a group by its address, or raise NotFound."""
    group = session.exec(select(PeerGroup).where(PeerGroup.slug == slug)).first()
    if group is None:
        raise NotFound()
    return group


def membership(session: Session, actor: Actor | None, group: PeerGroup) -> Membership | None:
    """Return the viewer's membership of the group (none for carers acting for someone)."""
    if actor is None or not actor.is_authenticated or actor.acting is not None:
        return None
    return session.exec(
        select(Membership).where(Membership.group_id == group.id, Membership.person_id == actor.id)
    ).first()


def is_supporter(member: Membership | None) -> bool:
    """Say whether a membership makes someone one of the group's peer supporters."""
    return member is not None and member.status == "active" and member.role in STAFF_OF_GROUP


def join(session: Session, actor: Actor, slug: str) -> Membership:
    """Join an open group, ask to join an approval group, or accept an invitation."""
    require(actor, "groups.take_part", actor.id)
    group = get_group(session, slug)
    if profile(session, actor) is None:
        raise GroupError(
            _("Choose the display name you take part under first, then join."), "display_name"
        )
    member = membership(session, actor, group)
    if member is not None and member.status in ("active", "pending"):
        return member  # asked twice: their place in the queue is kept
    if member is not None and member.status == "removed":
        raise GroupError(
            _(
                "A peer supporter removed you from this group, so you cannot join it again "
                "yourself. If you think that was a mistake, ask them for a review."
            )
        )
    if group.kind == "invite" and (member is None or member.status != "invited"):
        raise GroupError(
            _("This group is by invitation. A peer supporter of the group can invite you.")
        )
    now = utcnow()
    invited = member is not None and member.status == "invited"
    status = "pending" if group.kind == "approval" and not invited else "active"
    if member is None:
        member = Membership(group_id=group.id, person_id=actor.id, status=status)
    member.status, member.requested_at = status, now
    member.joined_at = now if status == "active" else None
    member.version += 1 if member.id else 0
    session.add(member)
    audit.record(
        session,
        actor.id,
        f"groups.{'join' if status == 'active' else 'ask'}",
        actor.id,
        group=group.slug,
    )
    try:
        session.commit()
    except IntegrityError:  # a double click: the other one joined
        session.rollback()
        found = membership(session, actor, group)
        assert found is not None
        return found
    return member


def leave(session: Session, actor: Actor, slug: str) -> None:
    """Leave a group (or withdraw a request to join); what they wrote stays in its threads."""
    require(actor, "groups.take_part", actor.id)
    group = get_group(session, slug)
    member = membership(session, actor, group)
    if member is None or member.status not in ("active", "pending", "invited"):
        raise NotFound()
    member.status, member.role = "left", "member"  # a peer supporter who leaves is one no more
    member.version += 1
    session.add(member)
    audit.record(session, actor.id, "groups.leave", actor.id, group=group.slug)
    session.commit()


def _supporter_of(session: Session, actor: Actor, group: PeerGroup) -> Membership:
    require(actor, "groups.take_part", actor.id)
    mine = membership(session, actor, group)
    if not is_supporter(mine):
        raise NotFound()
    assert mine is not None
    return mine


@dataclass
class Waiting:
    """Someone who asked to join, by their display name only."""

    member: Membership
    display_name: str


def waiting(session: Session, actor: Actor, slug: str) -> list[Waiting]:
    """Return the people waiting to join, oldest first (the group's peer supporters only)."""
    group = get_group(session, slug)
    _supporter_of(session, actor, group)
    rows = session.exec(
        select(Membership, PeerProfile.display_name)
        .join(PeerProfile, PeerProfile.person_id == Membership.person_id)
        .where(Membership.group_id == group.id, Membership.status == "pending")
        .order_by(Membership.requested_at, Membership.id)
    ).all()
    return [Waiting(member, name) for member, name in rows]


def claim(
    session: Session, model: type, row_id: int | None, was: str, version: int, **values: object
) -> bool:
    """Move a row on from status `was` if it is still at `version`, adding one to the version;
    say whether this request did it (two people at once: only one does)."""
    done = session.exec(
        update(model)
        .where(
            col(model.id) == row_id,  # type: ignore[attr-defined]
            col(model.status) == was,  # type: ignore[attr-defined]
            col(model.version) == version,  # type: ignore[attr-defined]
        )
        .values(version=version + 1, **values)
    )
    return done.rowcount == 1


def decide(
    session: Session,
    actor: Actor,
    slug: str,
    member_id: int,
    approve: bool,
    version: int,
    reason: str = "",
) -> Membership:
    """Approve or decline a request to join; two peer supporters at once: one wins, the
    other is told."""
    group = get_group(session, slug)
    _supporter_of(session, actor, group)
    member = session.get(Membership, member_id)
    if member is None or member.group_id != group.id:
        raise NotFound()
    reason = plain_line(reason, 1000)
    if not approve and not reason:
        raise GroupError(_("Say why, in a few kind words: the person will see it."), "reason")
    if len(reason) > 500:
        raise GroupError(_("The reason can be at most 500 characters."), "reason")
    now = utcnow()
    if not claim(
        session,
        Membership,
        member.id,
        "pending",
        version,
        status="active" if approve else "declined",
        joined_at=now if approve else None,
        reason=reason,
    ):
        session.rollback()
        raise GroupError(_("Another peer supporter has already answered this request."))
    session.add(
        ModAction(
            group_id=group.id,
            actor_id=actor.id,
            action="welcome" if approve else "decline",
            member_id=member.id,
            reason=reason,
        )
    )
    audit.record(
        session,
        actor.id,
        "groups.approve" if approve else "groups.decline",
        member.person_id,
        group=group.slug,
    )
    session.commit()
    session.refresh(member)
    return member


def invite(session: Session, actor: Actor, slug: str, display_name: str) -> str:
    """Invite someone to the group by their display name (the group's peer supporters);
    return their display name. They accept on the group's page."""
    from webapp.notifications.services import notify

    group = get_group(session, slug)
    _supporter_of(session, actor, group)
    key = skeleton(plain_line(display_name, 60))
    found = (
        session.exec(select(PeerProfile).where(PeerProfile.name_key == key)).first()
        if key
        else None
    )
    if found is None:
        raise GroupError(
            _("Nobody in groups uses that display name. Check how they spell it."), "display_name"
        )
    member = session.exec(
        select(Membership).where(
            Membership.group_id == group.id, Membership.person_id == found.person_id
        )
    ).first()
    if member is not None and member.status == "active":
        raise GroupError(
            _("%(name)s is already a member.", name=found.display_name), "display_name"
        )
    if member is not None and member.status == "removed":
        raise GroupError(
            _(
                "%(name)s was removed from this group. Only the group's administrator can "
                "take them back, after a second look.",
                name=found.display_name,
            ),
            "display_name",
        )
    if member is None:
        member = Membership(group_id=group.id, person_id=found.person_id, status="invited")
    elif member.status != "invited":
        member.status, member.requested_at = "invited", utcnow()
        member.version += 1
    session.add(member)
    session.flush()
    session.add(
        ModAction(group_id=group.id, actor_id=actor.id, action="invite", member_id=member.id)
    )
    notify(
        session,
        found.person_id,
        "groups.invite",
        _("A peer supporter invited you to join a group."),
        f"/groups/{group.slug}",
    )
    audit.record(session, actor.id, "groups.invite", found.person_id, group=group.slug)
    try:
        session.commit()
    except IntegrityError:  # invited twice at once: once is kept
        session.rollback()
    return found.display_name


def directory_stamp(session: Session, actor: Actor) -> tuple:
    """Return what of the viewer the directory shows: their memberships, by version."""
    return tuple(
        session.exec(
            select(func.count(Membership.id), func.sum(Membership.version)).where(
                Membership.person_id == actor.id
            )
        ).one()
    )
