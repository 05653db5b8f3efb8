"""results keep the sender's identifier; corrections and withdrawals

Revision ID: b7d4f0a2c915
Revises: 1eeabebb1c6d
Create Date: 2026-12-03 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "b7d4f0a2c915"
down_revision = "1eeabebb1c6d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "identifier_system",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",  # readings imported before kept no identifier
            )
        )
        batch_op.add_column(
            sa.Column(
                "identifier_value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("corrected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "corrected_from",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_unique_constraint(
            "uq_result_practice_identifier",
            ["practice_id", "identifier_system", "identifier_value"],
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.drop_constraint("uq_result_practice_identifier", type_="unique")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("corrected_from")
        batch_op.drop_column("corrected_at")
        batch_op.drop_column("issued_at")
        batch_op.drop_column("identifier_value")
        batch_op.drop_column("identifier_system")
