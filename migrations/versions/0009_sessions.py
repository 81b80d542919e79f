"""Server-side sessions, a second factor that enrolment cannot replace, and the refusal cap.

- ``user_session``: one row per sign-in. The cookie carries a random token; the row holds
  only its SHA-256, with when it was created and last seen, and when, why and by whom it was
  ended. Every request checks the row (``csmap_session_check``), so signing out, ending a
  session from the account page, an admin ending a user's sessions, disabling the account or
  resetting its password or second factor end it for every copy of the cookie. No client
  address is stored; the user-agent is kept only as a short label ("Firefox on Linux").
- ``csmap_self_set_totp`` now refuses when a secret is already set: enrolment is for an
  account without a second factor (new, or reset by an admin), never a way to replace one.
- ``access_refusal``: refused requests per actor (user id, or a keyed hash of the client
  address) per clock minute, counted by ``csmap_note_refusal`` so that every worker shares one
  count and the audit trail of refusals can be capped.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)
ENDED_REASONS = ("signed_out", "ended_by_user", "ended_by_admin", "expired", "account_changed")

SET_TOTP_0003 = """
CREATE OR REPLACE FUNCTION csmap_self_set_totp(p_secret text, p_recovery text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE app_user SET totp_secret = p_secret, totp_last_step = NULL,
         recovery_codes = p_recovery, updated_at = now()
  WHERE id = csmap_user_id()
$$;
"""
# Same signature and return type as 0003's, so its grants stay as they are.
SET_TOTP_0009 = """
CREATE OR REPLACE FUNCTION csmap_self_set_totp(p_secret text, p_recovery text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE app_user SET totp_secret = p_secret, totp_last_step = NULL,
         recovery_codes = p_recovery, updated_at = now()
  WHERE id = csmap_user_id() AND totp_secret IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'a second factor is already set up for this account'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'An administrator can reset it; then enrol again.';
  END IF;
END $$;
"""

NEW_FUNCTIONS = """
-- Resume a session from its token's hash before anyone is identified: the one look-up that
-- must bypass RLS. Ends it (for good) if the account is disabled, its epoch has moved on
-- (password or second-factor reset), or it is idle or too old; otherwise moves last_seen_at
-- at most once a minute, so a page's dozens of tile requests do not each write.
CREATE FUNCTION csmap_session_check(p_token_sha256 text, p_idle_seconds integer,
                                    p_absolute_seconds integer)
RETURNS TABLE (sid uuid, uid uuid, state text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  s user_session;
  live boolean;
BEGIN
  SELECT * INTO s FROM user_session WHERE token_sha256 = p_token_sha256;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  sid := s.id;
  uid := s.user_id;
  IF s.revoked_at IS NOT NULL THEN
    state := 'ended';
    RETURN NEXT;
    RETURN;
  END IF;
  SELECT u.is_active AND u.session_epoch = s.session_epoch INTO live
  FROM app_user u WHERE u.id = s.user_id;
  IF NOT coalesce(live, false) THEN
    UPDATE user_session SET revoked_at = now(), ended_reason = 'account_changed'
    WHERE id = s.id AND revoked_at IS NULL;
    state := 'ended';
  ELSIF now() - s.last_seen_at > make_interval(secs => p_idle_seconds)
        OR now() - s.created_at > make_interval(secs => p_absolute_seconds) THEN
    UPDATE user_session SET revoked_at = now(), ended_reason = 'expired'
    WHERE id = s.id AND revoked_at IS NULL;
    state := 'expired';
  ELSE
    UPDATE user_session SET last_seen_at = now()
    WHERE id = s.id AND last_seen_at < now() - interval '1 minute';
    state := 'live';
  END IF;
  RETURN NEXT;
END $$;

-- Count one refused request of an actor in the current clock minute; returns the count so
-- far. The upsert serialises concurrent workers on the row, so the count is exact.
CREATE FUNCTION csmap_note_refusal(p_actor text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE n integer;
BEGIN
  INSERT INTO access_refusal AS r (actor_key, minute, refusals)
  VALUES (p_actor, date_trunc('minute', clock_timestamp()), 1)
  ON CONFLICT (actor_key, minute) DO UPDATE SET refusals = r.refusals + 1
  RETURNING r.refusals INTO n;
  IF n = 1 THEN  -- a new window: forget windows nobody will ask about again
    DELETE FROM access_refusal WHERE minute < now() - interval '1 hour';
  END IF;
  RETURN n;
END $$;
"""
NEW_SIGNATURES = (
    "csmap_session_check(text, integer, integer)",
    "csmap_note_refusal(text)",
)


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.create_table(
        "user_session",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("session_epoch", sa.Integer, nullable=False),
        sa.Column("user_agent", sa.String(80), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("last_seen_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("ended_reason", sa.String(16)),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (ended_reason IS NULL)", name="ck_user_session_ended"
        ),
        sa.CheckConstraint(
            "ended_reason IS NULL OR ended_reason IN ("
            + ", ".join(f"'{r}'" for r in ENDED_REASONS)
            + ")",
            name="ck_user_session_reason",
        ),
    )
    op.create_index("ix_user_session_user", "user_session", ["user_id", "revoked_at"])
    op.create_table(
        "access_refusal",
        sa.Column("actor_key", sa.String(80), primary_key=True),
        sa.Column("minute", TS, primary_key=True),
        sa.Column("refusals", sa.Integer, nullable=False),
    )
    op.create_index("ix_access_refusal_minute", "access_refusal", ["minute"])
    op.execute(SET_TOTP_0009)
    op.execute(NEW_FUNCTIONS)
    for fn in NEW_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')

    # access_refusal is reached only through csmap_note_refusal: no grant to the app at all.
    op.execute("ALTER TABLE user_session ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE user_session FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY owner_all ON user_session TO CURRENT_USER USING (true) WITH CHECK (true)"
    )
    # Ending is an UPDATE; there is no DELETE, so the table is also the record of sign-ins.
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON user_session TO "{app}"')
    own = "user_id = csmap_user_id()"
    # Agency admins manage their agency's users but not a system admin's account (as 0003).
    admins = (
        "csmap_role() = 'system_admin' OR (csmap_role() = 'agency_admin'"
        " AND agency_id = csmap_agency_id() AND NOT EXISTS (SELECT 1 FROM app_user u"
        " WHERE u.id = user_session.user_id AND u.role = 'system_admin'))"
    )
    op.execute(
        f'CREATE POLICY read ON user_session FOR SELECT TO "{app}" USING ({own} OR {admins})'
    )
    op.execute(
        f'CREATE POLICY own_create ON user_session FOR INSERT TO "{app}"'
        f" WITH CHECK ({own} AND agency_id = csmap_agency_id() AND revoked_at IS NULL)"
    )
    # The app only ever ends a session this way (last_seen moves in csmap_session_check).
    op.execute(
        f'CREATE POLICY end_session ON user_session FOR UPDATE TO "{app}"'
        f" USING ({own} OR {admins}) WITH CHECK (({own} OR {admins}) AND revoked_at IS NOT NULL)"
    )


def downgrade() -> None:
    for fn in reversed(NEW_SIGNATURES):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute(SET_TOTP_0003)
    op.drop_table("access_refusal")
    op.drop_table("user_session")
