"""`csmap tokens`: personal access tokens for GIS clients, as the schema owner (for a user who
cannot reach the account page, or for scripted set-up)."""

from __future__ import annotations

import click
from sqlalchemy import text

from webmap.cli.common import owner_session


@click.group()
def tokens() -> None:
    """Read-only access tokens for GIS clients (QGIS, GDAL): make, list, revoke."""


def _actor(session, email: str):  # type: ignore[no-untyped-def]
    from webmap.access.actor import Actor

    row = session.execute(
        text("SELECT id, agency_id, role::text FROM app_user WHERE lower(email) = lower(:e)"),
        {"e": email},
    ).first()
    if row is None:
        raise click.ClickException(f"no user with e-mail {email!r}")
    return Actor(row[0], row[1], row[2])


@tokens.command("create")
@click.option("--user", "email", required=True, help="The user's e-mail address.")
@click.option("--name", required=True, help="Which client it is for, e.g. 'QGIS on my laptop'.")
@click.option("--expires", default=30, show_default=True, help="Days it lasts (1 to 90).")
def create(email: str, name: str, expires: int) -> None:
    """Make a token and print it once (it is never stored, only its hash)."""
    from webmap.access import tokens as svc
    from webmap.infra.errors import Invalid

    with owner_session() as session:
        try:
            new = svc.create(session, _actor(session, email), name, expires)
        except Invalid as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"token (shown once): {new.token}")
    click.echo(f"id {new.id}, expires {new.expires_at:%Y-%m-%d %H:%M} UTC")


@tokens.command("list")
@click.option("--user", "email", required=True, help="The user's e-mail address.")
def list_(email: str) -> None:
    """A user's tokens: name, expiry, last use, state."""
    with owner_session() as session:
        actor = _actor(session, email)
        rows = session.execute(
            text(
                "SELECT id, name, expires_at, last_used_at, revoked_at FROM access_token"
                " WHERE user_id = :u ORDER BY created_at DESC"
            ),
            {"u": actor.id},
        ).all()
    for token_id, name, expires, used, revoked in rows:
        state = "revoked" if revoked else "live"
        last = f"{used:%Y-%m-%d %H:%M}" if used else "never used"
        click.echo(f"{token_id}  {state:7}  expires {expires:%Y-%m-%d}  {last}  {name}")


@tokens.command("revoke")
@click.argument("token_id")
def revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    import uuid

    try:
        key = uuid.UUID(token_id)
    except ValueError:
        raise click.ClickException("expected a token id (see `csmap tokens list`)") from None
    with owner_session() as session:
        done = session.execute(
            text(
                "UPDATE access_token SET revoked_at = now() WHERE id = :id"
                " AND revoked_at IS NULL RETURNING id"
            ),
            {"id": key},
        ).first()
        session.commit()
    if done is None:
        raise click.ClickException("no live token with that id")
    click.echo(f"token {token_id} revoked")
