"""Alembic environment: every SQLModel table, the app's engine, batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from flask import current_app
from sqlmodel import SQLModel

import webapp.models  # noqa: F401  (imports every table so the metadata is complete)

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    """Write SQL for the migrations without a database connection."""
    context.configure(
        url=current_app.config["SQLALCHEMY_DATABASE_URI"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the app's own engine."""
    engine = current_app.extensions["db_engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
