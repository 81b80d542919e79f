"""`csmap users`, `csmap agencies`, `csmap audit`: first set-up and checks, as the owner."""

from __future__ import annotations

import sys
from typing import Any, cast

import click
from sqlalchemy import CursorResult

from webmap.cli.common import owner_session
from webmap.infra.db import driver_connection
from webmap.models import USER_ROLES

# -- users, agencies, audit ---------------------------------------------------------------


@click.group()
def users() -> None:
    """User accounts (for first set-up; day to day, agency admins use the admin pages)."""


def _find_user(session, email: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    row = session.execute(
        text("SELECT id FROM app_user WHERE lower(email) = lower(:e)"), {"e": email}
    ).scalar_one_or_none()
    if row is None:
        raise click.ClickException(f"no user with e-mail {email}")
    return row


@users.command("create")
@click.option("--agency", "agency_slug", required=True, help="Agency slug (see `csmap agencies`).")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", required=True, type=click.Choice(USER_ROLES))
@click.password_option("--password", help="Prompted for when not given.")
def users_create(agency_slug: str, email: str, display_name: str, role: str, password: str) -> None:
    """Create a user account."""
    from sqlalchemy import text

    from webmap.features.admin.users import NewUser, UserError, create_user

    with owner_session() as session:
        agency_id = session.execute(
            text("SELECT id FROM agency WHERE slug = :s"), {"s": agency_slug}
        ).scalar_one_or_none()
        if agency_id is None:
            raise click.BadParameter(f"no agency '{agency_slug}'", param_hint="--agency")
        try:
            user_id = create_user(session, NewUser(agency_id, email, display_name, role, password))
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"created {email} ({role}) with id {user_id}")


@users.command("list")
@click.option("--agency", "agency_slug", default=None)
def users_list(agency_slug: str | None) -> None:
    """List user accounts."""
    from sqlalchemy import text

    with owner_session() as session:
        rows = session.execute(
            text(
                "SELECT u.email, u.role, a.slug, u.is_active, u.totp_secret IS NOT NULL"
                " FROM app_user u JOIN agency a ON a.id = u.agency_id"
                " WHERE CAST(:slug AS text) IS NULL OR a.slug = :slug ORDER BY a.slug, u.email"
            ),
            {"slug": agency_slug},
        ).all()
    for email, role, slug, active, totp in rows:
        state = "active" if active else "DISABLED"
        click.echo(f"{email:45} {role:14} {slug:12} {state:8} {'2FA' if totp else 'no 2FA'}")


def _account_command(name: str, help_text: str, action):  # type: ignore[no-untyped-def]
    @users.command(name, help=help_text)
    @click.argument("email")
    def command(email: str) -> None:
        with owner_session() as session:
            action(session, _find_user(session, email))
            session.commit()
        click.echo(f"{name}: {email}")

    return command


def _setup_account_commands() -> None:
    from webmap.features.admin import users as svc

    _account_command(
        "disable",
        "Disable an account; its sessions end at once.",
        lambda s, uid: svc.set_active(s, uid, False),
    )
    _account_command(
        "enable", "Re-enable a disabled account.", lambda s, uid: svc.set_active(s, uid, True)
    )
    _account_command(
        "reset-2fa", "Remove the second factor; the user enrols again.", svc.reset_second_factor
    )


_setup_account_commands()


@users.command("set-password")
@click.argument("email")
@click.password_option("--password")
def users_set_password(email: str, password: str) -> None:
    """Set a new password (ends the user's sessions)."""
    from webmap.features.admin.users import UserError, set_password

    with owner_session() as session:
        try:
            set_password(session, _find_user(session, email), password)
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"password set for {email}")


@click.command("agencies")
def agencies() -> None:
    """List agencies and their slugs."""
    from sqlalchemy import text

    with owner_session() as session:
        for slug, name, kind in session.execute(
            text("SELECT slug, name, kind FROM agency ORDER BY name")
        ):
            click.echo(f"{slug:14} {kind:24} {name}")


@click.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--database", default=None)
def audit_verify(database: str | None) -> None:
    """Check the audit hash chain; name the first broken entry (exit 1)."""
    from webmap.infra.audit import verify

    with owner_session(database) as session:
        result = verify(driver_connection(session))
    if result.ok:
        click.echo(f"audit chain intact: {result.checked:,} entries verified")
        return
    click.echo(
        f"audit chain BROKEN at entry {result.first_broken}: {result.problem} "
        f"({result.checked - 1:,} entries before it verified)",
        err=True,
    )
    sys.exit(1)


# -- the configurable vocabulary ------------------------------------------------------------

VOCAB_TABLES = {"categories": "category", "features": "place_feature"}


@click.group()
def vocab() -> None:
    """The observation categories and place-feature tick-list (configurable per deployment)."""


@vocab.command("list")
@click.argument("which", type=click.Choice(sorted(VOCAB_TABLES)))
def vocab_list(which: str) -> None:
    """List categories or place features, active or not."""
    from sqlalchemy import text

    with owner_session() as session:
        rows = session.execute(
            text(f"SELECT code, label, active FROM {VOCAB_TABLES[which]} ORDER BY sort, code")  # noqa: S608
        ).all()
    for code, label, active in rows:
        click.echo(f"{code:28} {'active  ' if active else 'disabled'} {label}")


@vocab.command("add")
@click.argument("which", type=click.Choice(sorted(VOCAB_TABLES)))
@click.argument("code")
@click.argument("label")
def vocab_add(which: str, code: str, label: str) -> None:
    """Add (or re-enable and relabel) a category or place feature."""
    import re

    from sqlalchemy import text

    if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", code):
        raise click.BadParameter("lower-case letters, digits and _ (2-64)", param_hint="CODE")
    if not 1 <= len(label) <= 200:
        raise click.BadParameter("1 to 200 characters", param_hint="LABEL")
    table = VOCAB_TABLES[which]
    with owner_session() as session:
        session.execute(
            text(
                f"INSERT INTO {table} (code, label, sort) VALUES (:c, :l,"  # noqa: S608
                f" (SELECT coalesce(max(sort), 0) + 1 FROM {table}))"
                " ON CONFLICT (code) DO UPDATE SET label = excluded.label, active = true"
            ),
            {"c": code, "l": label},
        )
        session.commit()
    click.echo(f"{which}: {code} active")


@vocab.command("disable")
@click.argument("which", type=click.Choice(sorted(VOCAB_TABLES)))
@click.argument("code")
def vocab_disable(which: str, code: str) -> None:
    """Stop offering a category or feature (records that use it keep it)."""
    from sqlalchemy import text

    with owner_session() as session:
        result = session.execute(
            text(f"UPDATE {VOCAB_TABLES[which]} SET active = false WHERE code = :c"),  # noqa: S608
            {"c": code},
        )
        done = cast(CursorResult[Any], result).rowcount
        session.commit()
    if not done:
        raise click.ClickException(f"no {which[:-1]} '{code}'")
    click.echo(f"{which}: {code} disabled")
