"""One error format for the API, HTML error pages everywhere else.

API errors are ``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with the HTTP
status; ``fields`` names each bad field and its problem. No error response ever carries a
stack trace, and a 500 is logged with the exception's type and the route pattern only (never
the path, which can hold a signed link's token, nor the request body).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("webmap.web.errors")


class ApiError(Exception):
    """Raise from a service or view to answer with the API error format."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/tiles/")


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _json(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    resp = jsonify(error_body(code, message, fields))
    resp.status_code = status
    return resp


def _http_code(exc: HTTPException) -> str:
    if isinstance(exc, CSRFError):
        return "csrf_failed"
    return (exc.name or "error").lower().replace(" ", "_")


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return _json(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int] | Response:
        status = exc.code or 500
        if _wants_json():
            return _json(status, _http_code(exc), exc.description or exc.name)
        return render_template("error.html", status=status, title=exc.name), status

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> tuple[str, int] | Response:
        from webmap.web.request_log import escape, route_pattern

        # Log the type only: exception text from the DB driver can quote parameter values.
        log.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            escape(request.method),
            escape(route_pattern()),
        )
        if _wants_json():
            return _json(500, "internal_error", "Something went wrong; it has been logged.")
        err = InternalServerError()
        return render_template("error.html", status=500, title=err.name), 500
