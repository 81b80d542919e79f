"""The one error adapter: domain errors and HTTP errors to the API's JSON or an HTML page.

Services raise :mod:`webmap.infra.errors` (``Invalid``, ``NotFound``, ``Gone`` ...); this module
alone decides their HTTP status and how they are shown. API errors are
``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with the status; ``fields``
names each bad field and its problem. Elsewhere an HTML page says what went wrong in plain
words. No error response ever carries a stack trace, and a 500 is logged with the exception's
type and the route pattern only (never the path, which can hold a signed link's token, nor
the request body).

When the database cannot be reached (stopped, restarting, recovering from a crash, every
connection busy) the answer is a 503 with ``Retry-After``, on every route: the request did
nothing, and trying again shortly is exactly right. Never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import Flask, Response, g, jsonify, render_template, request
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
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
from webmap.web.responder import sign_in_required, wants_json

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
#: Seconds a client should wait before trying again while the database is unavailable.
RETRY_AFTER_SECONDS = 5
#: The database is unreachable or cannot serve now (a restart, crash recovery, a dropped
#: connection, a full pool, a statement cancelled at shutdown): worth trying again.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


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


def database_unavailable() -> Response:
    """503 with Retry-After, in JSON or as a page: the request changed nothing."""
    message = "The database is not available just now; nothing was changed. Try again shortly."
    # Who is signed in cannot be known without the database: answer as to anyone, so that
    # the page and the after-request hooks do not try (and fail) to resume the session again.
    g._login_user = AnonymousUserMixin()
    g.database_unavailable = True  # counted by webmap.web.metrics
    if wants_json():
        resp = json_error(503, "database_unavailable", message)
    else:
        page = render_template(
            "error.html", status=503, title="Service Unavailable", message=message
        )
        resp = Response(page, status=503, mimetype="text/html")
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


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
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if isinstance(exc, CSRFError) and wants_json() and not current_user.is_authenticated:
            # No session, so no token could have been right: the answer is "sign in".
            return sign_in_required()  # type: ignore[return-value]
        if wants_json():
            resp = json_error(status, _http_code(exc), exc.description or exc.name)
        else:
            page = render_template("error.html", status=status, title=exc.name)
            resp = Response(page, status=status, mimetype="text/html")
        # The exception's own headers: Allow on a 405 names the methods the path takes.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> tuple[str, int] | Response:
        if isinstance(exc, UNAVAILABLE) or getattr(exc, "connection_invalidated", False):
            log.warning(
                "database unavailable (%s) on %s %s",
                type(exc).__name__,
                escape(request.method),
                escape(route_pattern()),
            )
            return database_unavailable()
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
