"""Sign in (password, then second factor), enrol a second factor, sign out, and the account's
own sessions (see and end them)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from webmap.access import credentials, user_sessions
from webmap.access import login as steps
from webmap.access.policy import permission
from webmap.access.session import end_session, load_user
from webmap.infra import audit
from webmap.infra.db import DbContext, get_session, set_request_context, unit_of_work
from webmap.infra.values import parse_uuid, utc_minute
from webmap.web.context import get_settings

bp = Blueprint("auth", __name__)

PENDING_SECONDS = 300  # between a right password and the second factor


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None) -> str:
    r"""``target`` if it is a path on this site, else the map page.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    ``/\t/evil.example`` or ``/\evil.example`` would leave the site: anything with a control
    character or a backslash is refused, as the text given and once percent-decoded."""
    fallback: str = url_for("pages.map_page")
    if not target or len(target) > 2000:
        return fallback
    for form in (target, unquote(target)):
        if _CONTROL.search(form) or "\\" in form:
            return fallback
        if not form.startswith("/") or form.startswith("//"):
            return fallback
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return fallback
    return target


def _pending() -> steps.Account | None:
    p = session.get("pending")
    if not p or time.time() - p["at"] > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    return steps.Account(
        uuid.UUID(p["id"]), uuid.UUID(p["agency_id"]), p["role"], p["totp"], p["epoch"]
    )


def _client_key() -> str:
    return steps.keys(get_settings(), "", request.remote_addr or "unknown").client


def _finish(account: steps.Account, second_factor: str) -> Response:
    user = load_user(account.id, account.session_epoch)
    if user is None:  # disabled between the two steps
        abort(403)
    db = get_session()
    pending = session.get("pending", {})
    steps.mark_logged_in(db, account, second_factor)
    if pending.get("key"):  # a full sign-in clears the pair's failures
        steps.note_attempt(db, steps.Keys(pending["key"], _client_key()), True)
    label = user_sessions.user_agent_label(request.user_agent.string)
    user.session_id, user.session_token = user_sessions.start(
        db, user.id, user.agency_id, user.session_epoch, label
    )
    session.clear()  # a fresh cookie: nothing from before the sign-in carries over
    login_user(user)
    session.permanent = False
    return redirect(safe_next(pending.get("next")))


def _throttled(template: str, wait: int, **page: Any) -> tuple[str, int, dict[str, str]]:
    message = steps.throttled_message(wait)
    return render_template(template, form_error=message, **page), 429, {"Retry-After": str(wait)}


@bp.route("/login", methods=["GET", "POST"])
@unit_of_work
def login() -> Any:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("pages.map_page"))
        return render_template("auth/login.html", next=request.args.get("next", ""))
    settings = get_settings()
    db = get_session()
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    errors = {}
    if not email:
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105 - a message, not a secret
    next_url = request.form.get("next", "")
    if errors:
        return render_template("auth/login.html", errors=errors, email=email, next=next_url), 400
    k = steps.keys(settings, email, request.remote_addr or "unknown")
    wait = steps.retry_after(db, k, settings)
    if wait:
        audit.record(db, "login.throttled")
        return _throttled("auth/login.html", wait, email=email, next=next_url)
    account = steps.check_password(db, email, password)
    if account is None:
        steps.note_attempt(db, k, False)  # successes are noted once the sign-in completes
    if account is None:
        page = render_template(
            "auth/login.html", form_error=steps.NOT_RECOGNISED, email=email, next=next_url
        )
        return page, 401
    session.clear()
    session["pending"] = {
        "id": str(account.id),
        "agency_id": str(account.agency_id),
        "role": account.role,
        "totp": account.totp_enabled,
        "epoch": account.session_epoch,
        "at": time.time(),
        "next": next_url,
        "key": k.account,
    }
    if account.totp_enabled:
        return redirect(url_for("auth.second_factor"))
    if settings.mode == "demo":
        # Demo users may skip the second factor, in demo mode only.
        return _finish(account, "skipped_demo")
    return redirect(url_for("auth.enrol"))


@bp.route("/login/code", methods=["GET", "POST"])
@unit_of_work
def second_factor() -> Any:
    account = _pending()
    if account is None or not account.totp_enabled:
        flash("Please sign in again.", "warning")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/second_factor.html")
    settings = get_settings()
    db = get_session()
    k = steps.Keys(session["pending"]["key"], _client_key())
    wait = steps.retry_after(db, k, settings)
    if wait:
        audit.record(db, "login.throttled", object_type="user", object_ids=[account.id])
        return _throttled("auth/second_factor.html", wait)
    problem = steps.check_second_factor(db, settings, account.id, request.form.get("code", ""))
    if problem:
        steps.note_attempt(db, k, False)
        _audit_account(db, "login.failed", account, reason="bad_second_factor")
        return render_template("auth/second_factor.html", errors={"code": problem}), 401
    return _finish(account, "totp")


@bp.route("/login/enrol", methods=["GET", "POST"])
@unit_of_work
def enrol() -> Any:
    """Set up the second factor of an account that has none (new, or reset by an admin):
    after a right password (required outside demo mode), or from the account when signed in.
    Never a way to replace a factor: that needs the current one, or an admin's reset."""
    if current_user.is_authenticated:
        account: steps.Account | None = steps.Account(
            current_user.id,
            current_user.agency_id,
            current_user.role,
            current_user.totp_enabled,
            current_user.session_epoch,
        )
    else:
        account = _pending()
    if account is None:
        return redirect(url_for("auth.login"))
    if account.totp_enabled:
        return _enrol_refused(account)
    secret = session.get("enrol_secret") or credentials.new_totp_secret()
    session["enrol_secret"] = secret
    email = current_user.email if current_user.is_authenticated else ""
    uri = credentials.totp_uri(secret, email or "csmap user")
    page = {"qr": credentials.qr_data_uri(uri), "secret": secret}
    if request.method == "GET":
        return render_template("auth/enrol.html", **page)
    step = credentials.totp_step(secret, request.form.get("code", ""))
    if step is None:
        errors = {"code": "That code does not match. Scan the code again and use a new one."}
        return render_template("auth/enrol.html", errors=errors, **page), 400
    db = get_session()
    if not current_user.is_authenticated:
        set_request_context(DbContext(user_id=str(account.id)))
    try:
        codes = steps.enrol_second_factor(db, get_settings(), secret, step)
    except steps.AlreadyEnrolled:  # set since the password step: the database said no
        return _enrol_refused(account)
    _audit_account(db, "user.second_factor_enrolled", account)
    session.pop("enrol_secret", None)
    if not current_user.is_authenticated:
        _finish(account, "totp_enrolled")
    session["recovery_codes"] = codes
    return redirect(url_for("auth.recovery_codes"))


def _enrol_refused(account: steps.Account) -> tuple[str, int]:
    session.pop("enrol_secret", None)
    db = get_session()
    _audit_account(db, "user.second_factor_enrol_refused", account)
    return render_template("auth/enrol_refused.html"), 403


def _audit_account(db: Any, action: str, account: steps.Account, **details: Any) -> None:
    """Audit a step of this account's sign-in, against the account (so its agency's admins
    see it), whoever the request is yet."""
    audit.record(
        db,
        action,
        object_type="user",
        object_ids=[account.id],
        subject_agency_id=account.agency_id,
        agency_id=account.agency_id,
        details=details,
    )


@bp.get("/account/recovery-codes")
@unit_of_work
def recovery_codes() -> Any:
    codes = session.pop("recovery_codes", None)
    if not codes or not current_user.is_authenticated:
        return redirect(url_for("pages.map_page"))
    return render_template("auth/recovery_codes.html", codes=codes)


def _sign_out() -> None:
    """End this client's session row (with an audit entry) and forget it here."""
    if current_user.is_authenticated:
        db = get_session()
        user_sessions.end(db, current_user.id, user_sessions.SIGNED_OUT, current_user.session_id)
        audit.record(
            db,
            "logout",
            object_type="user",
            object_ids=[current_user.id],
            subject_agency_id=current_user.agency_id,
        )
    end_session()
    flash("You have signed out.", "info")


@bp.post("/logout")
@unit_of_work
def logout() -> Response:
    _sign_out()
    return redirect(url_for("auth.login"))


# -- the account's own sessions --------------------------------------------------------------


def _sessions_page(error: str = "") -> tuple[str, int]:
    rows = user_sessions.live(get_session(), current_user.id, get_settings())
    listed = [
        {
            "id": str(r.id),
            "created": utc_minute(r.created_at),
            "last_seen": utc_minute(r.last_seen_at),
            "device": r.user_agent or "Unknown browser",
            "this_device": r.id == current_user.session_id,
        }
        for r in rows
    ]
    page = render_template(
        "auth/sessions.html",
        sessions=listed,
        error=error,
        idle_minutes=get_settings().session_idle_minutes,
    )
    return page, 400 if error else 200


@bp.get("/account/sessions")
@permission("session", "manage")
@unit_of_work
def sessions(scope: frozenset[str]) -> tuple[str, int]:
    return _sessions_page()


@bp.post("/account/sessions/end")
@permission("session", "manage")
@unit_of_work
def end_own_session(scope: frozenset[str]) -> Any:
    session_id = parse_uuid(request.form.get("session_id"))
    if session_id is None:
        return _sessions_page("session_id: choose a session from the list.")
    if session_id == current_user.session_id:
        _sign_out()
        return redirect(url_for("auth.login"))
    db = get_session()
    ended = user_sessions.end(db, current_user.id, user_sessions.ENDED_BY_USER, session_id)
    if not ended:  # not one of this user's live sessions: as if it did not exist
        abort(404)
    audit.record(
        db,
        "session.ended",
        object_type="user_session",
        object_ids=ended,
        subject_agency_id=current_user.agency_id,
        details={"via": "account", "count": len(ended)},
    )
    flash("That session has ended: the device using it must sign in again.", "success")
    return redirect(url_for("auth.sessions"))
