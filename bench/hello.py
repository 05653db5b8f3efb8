"""The reference for `make bench`: a bare Flask app with one "hello" route."""

from flask import Flask


def create_app() -> Flask:
    """Return the bare app."""
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        """Say hello."""
        return "hello"

    return app
