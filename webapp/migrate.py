"""Flask-Migrate (Alembic) bound to every SQLModel table, for `flask db upgrade`."""

from __future__ import annotations

from flask_migrate import Migrate

migrate = Migrate()
