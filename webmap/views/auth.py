"""Sign in (password, then second factor), enrol a second factor, sign out."""

from __future__ import annotations

import time
import uuid
from typing import Any

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

from webmap import audit, get_settings
from webmap.auth import credentials
from webmap.auth import login as steps
from webmap.auth.session import end_session, load_user, start_session
from webmap.db import DbContext, get_session, set_request_context

bp = Blueprint("auth", __name__)

PENDING_SECONDS = 300  # between a right password and the second factor


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect to another host after signing in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.map_page")


def _pending() -> steps.Account | None:
    p = session.get("pending")
    if not p or time.time() - p["at"] > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    return steps.Account(
        uuid.UUID(p["id"]), uuid.UUID(p["agency_id"]), p["role"], p["totp"], p["epoch"]
    )


def _finish(account: steps.Account, second_factor: str) -> Response:
    user = load_user(account.id, account.session_epoch)
    if user is None:  # disabled between the two steps
        abort(403)
    steps.mark_logged_in(get_session(), account, second_factor)
    get_session().commit()
    next_url = session.get("pending", {}).get("next")
    session.clear()
    login_user(user)
    start_session(user)
    return redirect(_safe_next(next_url))


def _keys() -> steps.Keys:
    return steps.keys(
        get_settings(), request.form.get("email", ""), request.remote_addr or "unknown"
    )


@bp.route("/login", methods=["GET", "POST"])
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
    if errors:
        return render_template("auth/login.html", errors=errors, email=email), 400
    k = steps.keys(settings, email, request.remote_addr or "unknown")
    if steps.throttled(db, k, settings.login_max_failures):
        audit.record(db, "login.throttled")
        db.commit()
        return render_template("auth/login.html", form_error=steps.THROTTLED, email=email), 429
    account = steps.check_password(db, email, password)
    steps.note_attempt(db, k, account is not None)
    db.commit()
    if account is None:
        return render_template("auth/login.html", form_error=steps.NOT_RECOGNISED, email=email), 401
    session.clear()
    session["pending"] = {
        "id": str(account.id),
        "agency_id": str(account.agency_id),
        "role": account.role,
        "totp": account.totp_enabled,
        "epoch": account.session_epoch,
        "at": time.time(),
        "next": request.form.get("next", ""),
        "key": k.account,
    }
    if account.totp_enabled:
        return redirect(url_for("auth.second_factor"))
    if settings.mode == "demo":
        # Demo users may skip the second factor, in demo mode only.
        return _finish(account, "skipped_demo")
    return redirect(url_for("auth.enrol"))


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> Any:
    account = _pending()
    if account is None or not account.totp_enabled:
        flash("Please sign in again.", "warning")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/second_factor.html")
    settings = get_settings()
    db = get_session()
    k = steps.Keys(session["pending"]["key"], _keys().client)
    if steps.throttled(db, k, settings.login_max_failures):
        audit.record(db, "login.throttled", object_type="user", object_ids=[account.id])
        db.commit()
        return render_template("auth/second_factor.html", form_error=steps.THROTTLED), 429
    problem = steps.check_second_factor(db, settings, account.id, request.form.get("code", ""))
    steps.note_attempt(db, k, problem is None)
    if problem:
        audit.record(
            db,
            "login.failed",
            object_type="user",
            object_ids=[account.id],
            subject_agency_id=account.agency_id,
            agency_id=account.agency_id,
            details={"reason": "bad_second_factor"},
        )
        db.commit()
        return render_template("auth/second_factor.html", errors={"code": problem}), 401
    return _finish(account, "totp")


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> Any:
    """Set up the second factor: after a right password (required outside demo mode), or
    from the account page when already signed in."""
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
    codes = steps.enrol_second_factor(db, get_settings(), secret, step)
    audit.record(
        db,
        "user.second_factor_enrolled",
        object_type="user",
        object_ids=[account.id],
        subject_agency_id=account.agency_id,
        agency_id=account.agency_id,
    )
    db.commit()
    session.pop("enrol_secret", None)
    if not current_user.is_authenticated:
        _finish(account, "totp_enrolled")
    session["recovery_codes"] = codes
    return redirect(url_for("auth.recovery_codes"))


@bp.get("/account/recovery-codes")
def recovery_codes() -> Any:
    codes = session.pop("recovery_codes", None)
    if not codes or not current_user.is_authenticated:
        return redirect(url_for("pages.map_page"))
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        audit.record(
            get_session(),
            "logout",
            object_type="user",
            object_ids=[current_user.id],
            subject_agency_id=current_user.agency_id,
        )
        get_session().commit()
    end_session()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
