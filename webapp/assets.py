"""Static files under content-hashed names, served with long cache lifetimes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, abort, current_app, send_from_directory, url_for

YEAR = 365 * 24 * 3600
SERVED = {".css", ".js", ".png", ".svg", ".ico", ".webp"}


class Assets:
    """Map each static file to a name that changes whenever its bytes change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scan()

    def scan(self) -> None:
        """Hash every file under the static folder."""
        self.hashed: dict[str, str] = {}
        self.original: dict[str, str] = {}
        for path in sorted(self.root.rglob("*")):
            if not path.is_file() or path.suffix not in SERVED:
                continue
            name = path.relative_to(self.root).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            stem, dot, suffix = name.rpartition(".")
            hashed = f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
            self.hashed[name] = hashed
            self.original[hashed] = name

    def url(self, name: str) -> str:
        """Return the hashed URL of a static file."""
        if current_app.debug:
            self.scan()
        return url_for("static", filename=self.hashed[name])

    def version(self) -> str:
        """Return one digest for the whole set of static files."""
        joined = "\n".join(sorted(self.hashed.values()))
        return hashlib.sha256(joined.encode()).hexdigest()[:12]


def serve_static(filename: str) -> Response:
    """Serve a static file: hashed names for a year, plain names revalidated each time."""
    assets: Assets = current_app.extensions["assets"]
    if filename in assets.original:
        response = send_from_directory(assets.root, assets.original[filename], max_age=YEAR)
        response.cache_control.immutable = True
        return response
    if filename in assets.hashed:
        response = send_from_directory(assets.root, filename, max_age=0)
        response.cache_control.no_cache = True
        return response
    abort(404)


def init_app(app: Flask) -> None:
    """Hash the static folder and add the static route and the `asset()` template helper."""
    assets = Assets(Path(app.root_path) / "static")
    app.extensions["assets"] = assets
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=serve_static)
    app.jinja_env.globals["asset"] = assets.url
