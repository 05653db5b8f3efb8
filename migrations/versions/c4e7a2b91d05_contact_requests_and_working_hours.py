"""contact requests: a person asks their care team to get in touch; practices' working hours

Revision ID: c4e7a2b91d05
Revises: 9bef2fbaf128
Create Date: 2026-12-03 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "c4e7a2b91d05"
down_revision = "9bef2fbaf128"
branch_labels = None
depends_on = None

OPEN = sa.text("acknowledged_at IS NULL")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "working_hours",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                server_default="mon-fri 08:00-18:30",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "closed_on_bank_holidays", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )
    op.create_table(
        "contactrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("escalated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["acknowledged_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_contactrequest_open_person",
        "contactrequest",
        ["person_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_contactrequest_practice_open",
        "contactrequest",
        ["practice_id", "acknowledged_at", "created_at"],
    )
    op.create_index(
        "ix_contactrequest_due", "contactrequest", ["acknowledged_at", "escalated_at", "due_at"]
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_contactrequest_due", table_name="contactrequest")
    op.drop_index("ix_contactrequest_practice_open", table_name="contactrequest")
    op.drop_index("ux_contactrequest_open_person", table_name="contactrequest")
    op.drop_table("contactrequest")
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("closed_on_bank_holidays")
        batch_op.drop_column("working_hours")
