"""Input hygiene, in one place, before any view reads a byte of the request.

PostgreSQL refuses NUL in text, psycopg cannot encode half a UTF-16 surrogate pair, and a
terminal or log reader takes other C0 controls as commands: none of these belongs in a record,
a filter or a sign-in. So every JSON body field (keys too, at any depth), every query
parameter, every form field (the log-in form's included) and the headers the app reads are
checked here, and a bad one is a 422 naming the field; tab, line feed and carriage return stay
allowed, because notes and textareas have lines. A URL variable with one is a 404: no object
is called that. JSON nested deeper than :data:`MAX_DEPTH` is refused before it is parsed
(Python's parser would recurse until it fails). A body of unknown length (chunked) is read in
full, up to one byte past ``CSMAP_MAX_REQUEST_BYTES``, before Flask sees the request
(:class:`SizedBodies`): Werkzeug would otherwise cut it at the limit without a word, and the
view would read half a body. Over the limit it is a 413 like any sized body.

Nothing here logs or echoes the value: the error names the field only.

>>> problem("line one\\n\\tline two") is None
True
>>> problem("a\\x00b")
'must not contain control characters (found U+0000)'
>>> problem("\\ud800")
'must be valid Unicode text (found half a surrogate pair)'
>>> too_deep(b'{"a": [[1]]}', 3), too_deep(b'{"a": [[1]]}', 2), too_deep(b'"[[[[["', 2)
(False, True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from flask import Flask, request

from webmap.infra.errors import Invalid, NotFound

#: Deepest JSON nesting accepted (a GeoJSON multipolygon needs 5).
MAX_DEPTH = 32
#: C0 controls but tab, line feed and carriage return; and lone UTF-16 surrogates.
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]|[\ud800-\udfff]")
#: Request headers whose values reach the database or a response.
CHECKED_HEADERS = ("Idempotency-Key", "If-Match")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def problem(value: str) -> str | None:
    """What is wrong with ``value`` as text, or None."""
    found = _BAD.search(value)
    if found is None:
        return None
    char = found.group(0)
    if 0xD800 <= ord(char) <= 0xDFFF:
        return "must be valid Unicode text (found half a surrogate pair)"
    return f"must not contain control characters (found U+{ord(char):04X})"


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects more than ``limit`` deep
    (brackets inside strings do not count). A scan, not a parse: it cannot recurse."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _visible(name: str) -> str:
    """A field name fit to show: its own control characters written out."""
    return _BAD.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else "?", name)


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field, problem) for every bad key or string in a parsed JSON value; a field is named
    by its path (``vehicle.make``; a list's items by the list's name)."""
    if isinstance(value, str):
        bad = problem(value)
        if bad:
            yield path or "body", bad
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            bad = problem(str(key))
            if bad:
                yield _visible(name), "is not a field name: " + bad.removeprefix("must not ")
                continue
            yield from walk(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, path)


def _pairs(items: Any) -> Iterator[tuple[str, str]]:
    for key, value in items:
        bad = problem(key)
        if bad:
            yield _visible(key), "is not a parameter name: " + bad.removeprefix("must not ")
            continue
        bad = problem(value) if isinstance(value, str) else None
        if bad:
            yield key, bad


def _json_problems() -> Iterator[tuple[str, str]]:
    raw = request.get_data(cache=True)  # through Werkzeug's limit: a 413 if over it
    if too_deep(raw):
        raise Invalid(
            f"body: JSON nested more than {MAX_DEPTH} levels deep is refused",
            {"body": f"nested more than {MAX_DEPTH} levels deep"},
            code="too_deep",
        )
    data = request.get_json(silent=True)
    if data is not None:
        yield from walk(data)


def check_request() -> None:
    """Refuse the request if any part of it the app reads holds what text must not."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and problem(value):
            raise NotFound()
    fields = dict(_pairs(request.args.items(multi=True)))
    for header in CHECKED_HEADERS:
        value = request.headers.get(header)
        if value is not None and problem(value):
            fields[header] = problem(value) or ""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            fields.update(_json_problems())
        elif request.mimetype in _FORMS:
            fields.update(_pairs(request.form.items(multi=True)))
            for key, upload in request.files.items(multi=True):
                if upload.filename and problem(upload.filename):
                    fields[_visible(key)] = "file name " + (problem(upload.filename) or "")
        else:
            request.get_data(cache=True)  # any other body: read through the limit too
    if fields:
        raise Invalid.of(fields)


class SizedBodies:
    """WSGI middleware: give a chunked body its length, or mark it as too large (a
    ``Content-Length`` of one past the limit, with no body), so the one body-limit check of
    :mod:`webmap.web.security` answers 413 through the app, logged and with its headers."""

    def __init__(self, wsgi_app: Any, limit: int) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("CONTENT_LENGTH") in (None, "") and environ.get("wsgi.input_terminated"):
            stream = environ["wsgi.input"]
            body = bytearray()
            while len(body) <= self.limit:
                chunk = stream.read(min(65536, self.limit + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
            # Now of known length (Werkzeug reads no length while it says chunked).
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = BytesIO(b"" if len(body) > self.limit else bytes(body))
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = SizedBodies(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    app.before_request(check_request)
