"""What comes in from outside, made safe once for every route.

- Every text value of a form or query string loses control characters (NUL and the rest,
  but tabs and line breaks) and the characters that change the writing direction (they
  can make text read other than it is stored). No route stores them, none sees them.
- A whole number read from a form or query string with `type=int` that no column can hold
  counts as missing, so it is answered as a wrong value would be, never with an error.
- Every `<int:...>` in a route is bounded by the largest id a table can hold, so an
  overlong id is "not found".
- Every text part of an address (`<slug>`, `<token>`, `<path:...>`) with a control or
  direction-changing character in it, or longer than any the app makes, is "not found":
  no route sees it.
- A JSON body has its strings cleaned the same way, and one nested deeper than any page
  sends is refused with a plain 400.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

# The largest value of a PostgreSQL integer column (ids, versions); SQLite's are larger.
LARGEST_ID = 2**31 - 1
# C0 controls but tab, line feed and carriage return; DEL; C1 controls; and the marks,
# embeddings, overrides and isolates that change the writing direction.
UNSAFE_CHARACTERS = (
    r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
)
UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")


def clean(text: str) -> str:
    """Return text without control or direction-changing characters."""
    return UNSAFE.sub("", text)


class CleanValues(ImmutableMultiDict):
    """A form or query string whose text values are cleaned as they are read in, and whose
    `get(..., type=int)` treats a number beyond any id as missing."""

    def __init__(self, mapping: Any = None) -> None:
        super().__init__(mapping)
        for values in dict.values(self):
            for i, value in enumerate(values):
                if isinstance(value, str) and UNSAFE.search(value):
                    values[i] = clean(value)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        """As MultiDict.get, but an int beyond what a column holds gives the default."""
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not -LARGEST_ID <= value <= LARGEST_ID:
            return default
        return value


class BoundedInt(IntegerConverter):
    """`<int:...>` in every route: at most LARGEST_ID unless the route says otherwise."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


# The longest part of an address the app makes: slugs are a few words, tokens 43 characters.
LONGEST_SEGMENT = 200
# The longest `<path:...>` (the static files' names, folders and all).
LONGEST_PATH = 400


# What a part of an address may hold: no slash, no tab or line break, nothing UNSAFE.
_SAFE_IN_ADDRESS = f"[^/\\t\\n\\r{UNSAFE_CHARACTERS}]"


class CleanString(UnicodeConverter):
    """`<name>` and `<string:name>` in every route: a part of the address with a control or
    direction-changing character, or longer than LONGEST_SEGMENT, matches no route (404).
    Refused by the pattern itself, so no rule matches at all (never "method not allowed")."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maxlength", LONGEST_SEGMENT)
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", _SAFE_IN_ADDRESS, 1)


class CleanPath(PathConverter):
    """`<path:...>` in every route, refused as CleanString is, up to LONGEST_PATH."""

    part_isolating = False
    regex = f"{_SAFE_IN_ADDRESS}[^\\t\\n\\r{UNSAFE_CHARACTERS}]{{0,{LONGEST_PATH - 1}}}?"


class TooDeep(BadRequest):
    """A JSON body nested deeper than Python will read."""

    description = "That request was nested too deeply to read. Reload the page and try again."


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a body so deeply nested it would exhaust the reader."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; a body too deeply nested is a 400, not a server error."""
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise TooDeep() from None


# No page sends JSON deeper than this; the passkey and push bodies are three or four deep.
JSON_DEPTH = 32


def clean_json(value: Any) -> Any:
    """Return a parsed JSON body with every string (keys too) cleaned; refuse one nested
    deeper than JSON_DEPTH (walked without recursion, so no depth can exhaust the stack)."""
    root = [value]
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        container, depth = stack.pop()
        if depth > JSON_DEPTH:
            raise TooDeep()
        if isinstance(container, dict):
            items = list(container.items())
            container.clear()
            for key, item in items:
                container[clean(key) if isinstance(key, str) else key] = item
            keys: Any = list(container)
        else:
            keys = range(len(container))
        for key in keys:
            item = container[key]
            if isinstance(item, str):
                container[key] = clean(item)
            elif isinstance(item, (dict, list)):
                stack.append((item, depth + 1))
    return root[0]


def init_app(app: Flask) -> None:
    """Use the bounded int converter, the clean string and path converters, and the careful
    JSON reader.

    Called before any blueprint is registered, so every route's `<int:...>` is bounded and
    every `<slug>`, `<token>` and `<path:...>` is clean.
    """
    converters = app.url_map.converters
    converters["int"] = BoundedInt
    converters["default"] = converters["string"] = CleanString
    converters["path"] = CleanPath
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)


def clean_requests(app: Flask) -> None:
    """Read forms, query strings and JSON bodies clean. Called after the extensions, as one
    (htmx-flask) brings a request class of its own: the clean one builds on whichever is set."""
    base: type[Request] = app.request_class

    class CleanRequest(base):  # type: ignore[valid-type,misc]
        parameter_storage_class = CleanValues

        def get_json(self, *args: Any, **kwargs: Any) -> Any:
            """Request.get_json, with every string of the body cleaned (clean_json)."""
            return clean_json(super().get_json(*args, **kwargs))

    app.request_class = CleanRequest
