"""Static files under content-hashed names, served with long cache lifetimes."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from flask import Flask, Response, abort, current_app, request, url_for

from webapp.links import link

YEAR = 365 * 24 * 3600
SERVED = {".css", ".js", ".png", ".svg", ".ico", ".webp"}


class Assets:
    """Map each static file to a name that changes whenever its bytes change.

    The files are small, so they are kept in memory: no file handle per request.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scan()

    def scan(self) -> None:
        """Hash every file under the static folder."""
        self.hashed: dict[str, str] = {}
        self.original: dict[str, str] = {}
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for path in sorted(self.root.rglob("*")):
            if not path.is_file() or path.suffix not in SERVED:
                continue
            name = path.relative_to(self.root).as_posix()
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:12]
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if mimetype.startswith("text/") or mimetype.endswith("javascript"):
                mimetype += "; charset=utf-8"
            self.files[name] = (data, mimetype, digest)
            stem, dot, suffix = name.rpartition(".")
            hashed = f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
            self.hashed[name] = hashed
            self.original[hashed] = name

    def url(self, name: str) -> str:
        """Return the hashed URL of a static file."""
        if current_app.debug:
            self.scan()
            return url_for("static", filename=self.hashed[name])
        return link("static", filename=self.hashed[name])

    def version(self) -> str:
        """Return one digest for the whole set of static files."""
        joined = "\n".join(sorted(self.hashed.values()))
        return hashlib.sha256(joined.encode()).hexdigest()[:12]


def serve_static(filename: str) -> Response:
    """Serve a static file: hashed names for a year, plain names revalidated each time."""
    assets: Assets = current_app.extensions["assets"]
    name = assets.original.get(filename)
    if name is None and filename in assets.hashed:
        name = filename
    if name is None:
        abort(404)
    data, mimetype, digest = assets.files[name]
    response = Response(data, headers={"Content-Type": mimetype})
    response.set_etag(digest)
    if name != filename:
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Hash the static folder and add the static route and the `asset()` template helper."""
    assets = Assets(Path(app.root_path) / "static")
    app.extensions["assets"] = assets
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=serve_static)
    app.jinja_env.globals["asset"] = assets.url
