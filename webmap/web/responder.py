"""Whether a request is answered in JSON or HTML: decided here, once, for errors, sign-in
redirects and refusals alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response as Response
from flask import current_app, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

F = TypeVar("F", bound=Callable[..., Any])


def returns_json(view: F) -> F:
    """Mark a view outside /api/ and /tiles/ whose answers (errors included) are JSON."""
    view.csmap_json = True  # type: ignore[attr-defined]
    return view


def wants_json() -> bool:
    """The API, tiles and views marked with :func:`returns_json` answer in JSON; pages in
    HTML."""
    if request.path.startswith(("/api/", "/tiles/")):
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "csmap_json", False))


def sign_in_required() -> BaseResponse:
    """The answer to a request that needs a signed-in user: 401 in JSON for the API, the
    sign-in page (coming back here afterwards) for pages."""
    if wants_json():
        resp = jsonify({"error": {"code": "unauthorised", "message": "Sign in to use this."}})
        resp.status_code = 401
        # A GIS client signs in with a personal access token (see /account/tokens).
        resp.headers["WWW-Authenticate"] = 'Bearer realm="csmap"'
        return resp
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """A file to download, never cached (it holds shared data)."""
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


#: The one exception to no-store: tiles a browser may keep, revalidating every time (with the
#: ETag: a 304 costs one small round trip), and that no shared cache may keep.
REVALIDATE = "private, no-cache"


def revalidated(body: bytes | None, etag: str, mimetype: str, **headers: str) -> Response:
    """200 with ``body``, or 304 Not Modified when ``body`` is None (the client's copy under
    ``etag`` is current); either way with the ETag and :data:`REVALIDATE`."""
    resp = Response(body or b"", status=304 if body is None else 200, mimetype=mimetype)
    resp.headers["ETag"] = etag
    resp.headers["Cache-Control"] = REVALIDATE
    # A browser's copy belongs to whoever signed in (a cookie) or the token that asked.
    resp.headers["Vary"] = "Cookie, Authorization"
    resp.headers.update(headers)
    return resp
