"""The one error adapter: domain errors and HTTP errors to the API's JSON or an HTML page.

Services raise :mod:`webmap.infra.errors` (``Invalid``, ``NotFound``, ``Gone`` ...); this module
alone decides their HTTP status and how they are shown. API errors are
``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with the status; ``fields``
names each bad field and its problem. Elsewhere an HTML page says what went wrong in plain
words. No error response ever carries a stack trace, and a 500 is logged with the exception's
type and the route pattern only (never the path, which can hold a signed link's token, nor
the request body).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webmap.infra.errors import (
    Conflict,
    DomainError,
    Gone,
    Invalid,
    NotFound,
    PreconditionRequired,
    Refused,
    TooMany,
)
from webmap.web.request_log import escape, route_pattern
from webmap.web.responder import wants_json

log = logging.getLogger("webmap.web.errors")

#: Each kind of domain error's HTTP status.
STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Gone: 410,
    Conflict: 409,
    PreconditionRequired: 428,
    Refused: 403,
    TooMany: 429,
}
_TITLES = {410: "No longer available", 403: "Forbidden"}


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error (its nearest known kind; 400 if none)."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def json_error(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> Response:
    resp = jsonify(error_body(code, message, fields))
    resp.status_code = status
    return resp


def _http_code(exc: HTTPException) -> str:
    if isinstance(exc, CSRFError):
        return "csrf_failed"
    return (exc.name or "error").lower().replace(" ", "_")


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> tuple[str, int] | Response:
        status = status_of(exc)
        if wants_json():
            resp = json_error(status, exc.code, exc.message, exc.fields)
        elif status == 404:
            # Exactly the page of a path that does not exist: out of scope looks the same.
            resp = Response(render_template("error.html", status=404, title="Not Found"), 404)
        else:
            title = _TITLES.get(status, "That did not work")
            page = render_template("error.html", status=status, title=title, message=exc.message)
            resp = Response(page, status=status, mimetype="text/html")
        if exc.retry_after is not None:
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int] | Response:
        status = exc.code or 500
        if wants_json():
            return json_error(status, _http_code(exc), exc.description or exc.name)
        return render_template("error.html", status=status, title=exc.name), status

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> tuple[str, int] | Response:
        # Log the type only: exception text from the DB driver can quote parameter values.
        log.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            escape(request.method),
            escape(route_pattern()),
        )
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong; it has been logged.")
        err = InternalServerError()
        return render_template("error.html", status=500, title=err.name), 500
