"""email links have a purpose: signing in, or confirming an account's deletion

Revision ID: a3c9e1f27b64
Revises: 188fb4d97bd0
Create Date: 2026-12-02 07:10:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "a3c9e1f27b64"
down_revision = "188fb4d97bd0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("signinlink", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                server_default="signin",
                nullable=False,
            )
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("signinlink", schema=None) as batch_op:
        batch_op.drop_column("purpose")
