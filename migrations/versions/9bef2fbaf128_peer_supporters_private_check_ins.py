"""peer supporters' private check-ins with the author of a post that may need a look

Revision ID: 9bef2fbaf128
Revises: c4e8a2d51f93
Create Date: 2026-12-02 10:14:21.014487
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "9bef2fbaf128"
down_revision = "c4e8a2d51f93"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("words", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["peergroup.id"], name="fk_checkin_group_id_peergroup", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name="fk_checkin_post_id_post", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["person.id"],
            name="fk_checkin_recipient_id_person",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["person.id"], name="fk_checkin_sender_id_person", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "sender_id"),
    )
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index("ix_checkin_sender_recent", ["sender_id", "created_at"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_index("ix_checkin_sender_recent")
        batch_op.drop_index(batch_op.f("ix_checkin_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_checkin_post_id"))
    op.drop_table("checkin")
