"""the plan carries over between reviews: when a goal left the plan, and a look back for
each review it comes before

Revision ID: b7d2e4f1a9c3
Revises: a3c9e1f27b64
Create Date: 2026-12-02 10:45:00.000000
"""

import datetime as dt

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "b7d2e4f1a9c3"
down_revision = "a3c9e1f27b64"
branch_labels = None
depends_on = None

# The old one-score-per-goal-and-side constraint had no name of its own.
_OLD = {"postgresql": "goalscore_goal_id_side_key"}
_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    # A goal already achieved, changed or stopped left the plan when it last changed.
    op.execute(
        "UPDATE goal SET ended_at = updated_at WHERE status IN ('achieved', 'changed', 'stopped')"
    )
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("goalscore", schema=None, naming_convention=_CONVENTION) as batch_op:
        batch_op.add_column(sa.Column("for_review_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_goalscore_for_review_id",
            "review",
            ["for_review_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(_OLD.get(dialect, "uq_goalscore_goal_id"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_goalscore_for_review", ["goal_id", "side", "for_review_id"]
        )
    # Every score so far was for the first review of the goal's practice after the one that
    # agreed it that was not yet over (12 hours after its time) when the score was given; one
    # given with no such review booked waits for the next one booked (reviews/services.py).
    bind = op.get_bind()
    scores = bind.execute(
        sa.text(
            "SELECT goalscore.id, goalscore.scored_at, goal.patient_id, agreed.practice_id,"
            " agreed.scheduled_at FROM goalscore"
            " JOIN goal ON goal.id = goalscore.goal_id"
            " JOIN review AS agreed ON agreed.id = goal.review_id"
        )
    ).all()
    for score_id, scored_at, patient_id, practice_id, agreed_at in scores:
        later = bind.execute(
            sa.text(
                "SELECT id, scheduled_at FROM review WHERE patient_id = :patient"
                " AND practice_id = :practice AND scheduled_at > :agreed"
                " ORDER BY scheduled_at, id"
            ),
            {"patient": patient_id, "practice": practice_id, "agreed": agreed_at},
        ).all()
        chosen = next(
            (
                review_id
                for review_id, when in later
                if _aware(when) + dt.timedelta(hours=12) > _aware(scored_at)
            ),
            None,
        )
        if chosen is not None:
            bind.execute(
                sa.text("UPDATE goalscore SET for_review_id = :review WHERE id = :id"),
                {"review": chosen, "id": score_id},
            )


def _aware(moment: object) -> dt.datetime:
    """Return a stored time as an aware UTC datetime (SQLite may give text or naive)."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    assert isinstance(moment, dt.datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def downgrade() -> None:
    """Undo this revision (keeping each goal and side's latest score)."""
    op.execute(
        "DELETE FROM goalscore WHERE id NOT IN "
        "(SELECT MAX(id) FROM goalscore GROUP BY goal_id, side)"
    )
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("goalscore", schema=None, naming_convention=_CONVENTION) as batch_op:
        batch_op.drop_constraint("uq_goalscore_for_review", type_="unique")
        batch_op.drop_constraint("fk_goalscore_for_review_id", type_="foreignkey")
        batch_op.create_unique_constraint(
            _OLD.get(dialect, "uq_goalscore_goal_id"), ["goal_id", "side"]
        )
        batch_op.drop_column("for_review_id")
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.drop_column("ended_at")
