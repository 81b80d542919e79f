"""Personal access tokens for GIS clients (QGIS, GDAL): read-only, at most 90 days, hashed.

- ``access_token``: one row per token a user made for a GIS client: its name, the SHA-256 of the
  token (the token itself is shown once and never stored), when it was made, when it expires
  (at most 90 days on), when it was last used, and when and by whom it was revoked.
- ``csmap_token_check(hash)`` (SECURITY DEFINER: nobody is identified yet) answers the token's
  id and user for a live token of an active account, and notes its use.
- Row-level security: a user sees and revokes their own tokens; an agency admin sees and
  revokes their agency's; nobody else sees any.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

# Notes the use at most once a minute, so a map's dozens of tile requests do not each write.
CHECK = """
CREATE FUNCTION csmap_token_check(p_token_sha256 text)
RETURNS TABLE (token_id uuid, user_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT t.id, t.user_id FROM access_token t JOIN app_user u ON u.id = t.user_id
    WHERE t.token_sha256 = p_token_sha256 AND t.revoked_at IS NULL AND t.expires_at > now()
      AND u.is_active;
  UPDATE access_token SET last_used_at = now()
  WHERE token_sha256 = p_token_sha256
    AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
END
$$;
"""


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.create_table(
        "access_token",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("last_used_at", TS),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", UUID, sa.ForeignKey("app_user.id")),
        sa.CheckConstraint(
            "expires_at > created_at AND expires_at <= created_at + interval '90 days'",
            name="ck_access_token_lifetime",
        ),
    )
    op.create_index("ix_access_token_user", "access_token", ["user_id"])
    op.execute("ALTER TABLE access_token ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE access_token FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY owner_all ON access_token TO CURRENT_USER USING (true) WITH CHECK (true)"
    )
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON access_token TO "{app}"')
    mine = "user_id = csmap_user_id()"
    admin = "(agency_id = csmap_agency_id() AND csmap_role() = 'agency_admin')"
    op.execute(
        f'CREATE POLICY own_read ON access_token FOR SELECT TO "{app}" USING ({mine} OR {admin})'
    )
    op.execute(
        f'CREATE POLICY own_create ON access_token FOR INSERT TO "{app}"'
        f" WITH CHECK ({mine} AND agency_id = csmap_agency_id())"
    )
    # Revoking is the only change anyone makes (the check function notes use as the owner).
    op.execute(
        f'CREATE POLICY own_revoke ON access_token FOR UPDATE TO "{app}"'
        f" USING ({mine} OR {admin}) WITH CHECK (revoked_at IS NOT NULL)"
    )
    op.execute(CHECK)
    op.execute("REVOKE ALL ON FUNCTION csmap_token_check(text) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION csmap_token_check(text) TO "{app}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS csmap_token_check(text)")
    op.drop_table("access_token")
