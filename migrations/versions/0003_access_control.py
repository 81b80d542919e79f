"""Users, panels, log-in attempts, the hash-chained audit log, and row-level security.

Row-level security is the second guard behind the app's policy table: every table that holds
agency data has RLS ENABLED and FORCED; the app role gets rows only through policies that read
the per-transaction context (``set_config('csmap.*', …, true)``), so no context means no rows.
The schema owner gets an explicit all-rows policy (it loads demo data and runs the CLI); the
owner is subject to FORCE like everyone else, so that policy is the only reason it sees rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

USER_ROLES = (
    "practitioner",
    "analyst",
    "panel_chair",
    "trainer",
    "agency_admin",
    "system_admin",
)
#: Roles that may read their own agency's records at full detail (tier A).
READERS = "('practitioner','analyst','panel_chair','agency_admin')"
#: Roles that may write their own agency's records.
WRITERS = "('practitioner','analyst','agency_admin')"

CONTEXT_FUNCTIONS = """
CREATE FUNCTION csmap_user_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('csmap.user_id', true), '')::uuid $$;
CREATE FUNCTION csmap_agency_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('csmap.agency_id', true), '')::uuid $$;
CREATE FUNCTION csmap_role() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('csmap.role', true), '') $$;
"""

AUDIT_CHAIN = """
-- The canonical text of an entry: what its hash covers. `csmap audit verify` recomputes it
-- independently in Python from the stored columns.
CREATE FUNCTION audit_canonical(e audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT concat_ws('|', e.prev_hash, e.id::text,
                   to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   coalesce(e.user_id::text, ''), coalesce(e.agency_id::text, ''),
                   coalesce(e.subject_agency_id::text, ''), e.action,
                   coalesce(e.object_type, ''), array_to_string(e.object_ids, ','),
                   coalesce(e.request_id, ''), coalesce(e.justification, ''), e.details::text)
$$;

-- Runs as the owner (SECURITY DEFINER) so it can see the last entry whatever the caller's
-- RLS scope. The advisory lock is held to commit, so entries chain in id order.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE last_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(74055211);
  NEW.id := nextval('audit_log_id_seq');
  NEW.at := clock_timestamp();
  SELECT hash INTO last_hash FROM audit_log ORDER BY id DESC LIMIT 1;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  NEW.hash := encode(sha256(convert_to(audit_canonical(NEW), 'UTF8')), 'hex');
  RETURN NEW;
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
"""

# Log-in runs before any context exists, so these narrow SECURITY DEFINER functions are the
# only way the app reads or updates a user it has not yet authenticated.
AUTH_FUNCTIONS = """
CREATE FUNCTION csmap_login_lookup(p_email text)
RETURNS TABLE (id uuid, agency_id uuid, role user_role, password_hash text,
               totp_enabled boolean, is_active boolean, session_epoch integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.agency_id, u.role, u.password_hash, u.totp_secret IS NOT NULL,
         u.is_active, u.session_epoch
  FROM app_user u WHERE lower(u.email) = lower(p_email)
$$;

CREATE FUNCTION csmap_login_succeeded(p_user uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE app_user SET last_login_at = now() WHERE id = p_user
$$;

-- A user's own second-factor settings; only ever their own row (the context's user).
CREATE FUNCTION csmap_self_set_totp(p_secret text, p_recovery text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE app_user SET totp_secret = p_secret, totp_last_step = NULL,
         recovery_codes = p_recovery, updated_at = now()
  WHERE id = csmap_user_id()
$$;

-- Record a used TOTP step; false (and no change) if it is not newer than the last one, which
-- is what makes a replayed code fail.
CREATE FUNCTION csmap_self_use_totp_step(p_step bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE app_user SET totp_last_step = p_step
  WHERE id = csmap_user_id() AND (totp_last_step IS NULL OR totp_last_step < p_step);
  RETURN FOUND;
END $$;

CREATE FUNCTION csmap_self_use_recovery_code(p_code_hash text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE app_user SET recovery_codes = array_remove(recovery_codes, p_code_hash)
  WHERE id = csmap_user_id() AND p_code_hash = ANY(recovery_codes);
  RETURN FOUND;
END $$;
"""


def _force_rls(table: str, owner_policy: bool = True) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    if owner_policy:
        op.execute(
            f"CREATE POLICY owner_all ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)"
        )


def _policy(
    table: str,
    name: str,
    command: str,
    app: str,
    using: str | None = None,
    check: str | None = None,
) -> None:
    sql = f'CREATE POLICY {name} ON {table} FOR {command} TO "{app}"'
    if using:
        sql += f" USING ({using})"
    if check:
        sql += f" WITH CHECK ({check})"
    op.execute(sql)


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    user_role = pg.ENUM(*USER_ROLES, name="user_role")
    panel_kind = pg.ENUM("mace", "ldsm", name="panel_kind")

    op.create_table(
        "app_user",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False, index=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", user_role, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("totp_secret", sa.Text),
        sa.Column("totp_last_step", sa.BigInteger),
        sa.Column(
            "recovery_codes",
            pg.ARRAY(sa.Text),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("session_epoch", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("last_login_at", TS),
    )
    op.create_index("uq_app_user_email", "app_user", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "panel",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", panel_kind, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "panel_member",
        sa.Column(
            "panel_id", UUID, sa.ForeignKey("panel.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "agency_id", UUID, sa.ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # Keyed hashes only: the table never holds an e-mail address or an IP address.
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("succeeded", sa.Boolean, nullable=False),
    )
    op.create_index("ix_login_attempt_account", "login_attempt", ["account_key", "at"])
    op.create_index("ix_login_attempt_client", "login_attempt", ["client_key", "at"])
    op.execute("CREATE SEQUENCE audit_log_id_seq")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("user_id", UUID),
        sa.Column("agency_id", UUID),
        sa.Column("subject_agency_id", UUID),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64)),
        sa.Column(
            "object_ids", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")
        ),
        sa.Column("request_id", sa.String(64)),
        sa.Column("justification", sa.Text),
        sa.Column("details", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_agency_at", "audit_log", ["agency_id", "at"])
    op.create_index("ix_audit_log_subject_at", "audit_log", ["subject_agency_id", "at"])
    op.execute("ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id")

    op.execute(CONTEXT_FUNCTIONS)
    op.execute(AUDIT_CHAIN)
    op.execute(AUTH_FUNCTIONS)
    for fn in (
        "csmap_login_lookup(text)",
        "csmap_login_succeeded(uuid)",
        "csmap_self_set_totp(text, text[])",
        "csmap_self_use_totp_step(bigint)",
        "csmap_self_use_recovery_code(text)",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')

    # -- grants: the app role never gets DELETE or TRUNCATE; audit is INSERT + SELECT only.
    op.execute(
        f'GRANT SELECT, INSERT, UPDATE ON app_user, agency, panel, panel_member, boundary_set TO "{app}"'
    )
    op.execute(f'GRANT DELETE ON panel_member TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT ON audit_log, login_attempt TO "{app}"')

    # -- row-level security ------------------------------------------------------------------
    has_ctx = "csmap_user_id() IS NOT NULL"
    sysadmin = "csmap_role() = 'system_admin'"
    for table, readers in (
        ("observation", READERS),
        ("vehicle", READERS),
        ("context", READERS[:-1] + ",'trainer')"),
    ):
        _force_rls(table)
        own = "agency_id = csmap_agency_id()"
        _policy(table, "own_read", "SELECT", app, using=f"{own} AND csmap_role() IN {readers}")
        _policy(table, "own_insert", "INSERT", app, check=f"{own} AND csmap_role() IN {WRITERS}")
        _policy(
            table,
            "own_update",
            "UPDATE",
            app,
            using=f"{own} AND csmap_role() IN {WRITERS}",
            check=f"{own} AND csmap_role() IN {WRITERS}",
        )

    _force_rls("app_user")
    _policy(
        "app_user",
        "read",
        "SELECT",
        app,
        using=f"id = csmap_user_id() OR {sysadmin} OR "
        "(csmap_role() = 'agency_admin' AND agency_id = csmap_agency_id())",
    )
    manage_users = (
        f"{sysadmin} OR (csmap_role() = 'agency_admin' AND agency_id = csmap_agency_id()"
        " AND role <> 'system_admin')"
    )
    _policy("app_user", "manage_insert", "INSERT", app, check=manage_users)
    _policy("app_user", "manage_update", "UPDATE", app, using=manage_users, check=manage_users)

    # Directory tables: every signed-in user may read them; only system admins change them.
    for table in ("agency", "panel", "panel_member", "agency_jurisdiction", "boundary_set"):
        _force_rls(table)
        _policy(table, "read", "SELECT", app, using=has_ctx)
    for table in ("agency", "panel", "panel_member", "boundary_set"):
        _policy(table, "admin_insert", "INSERT", app, check=sysadmin)
        _policy(table, "admin_update", "UPDATE", app, using=sysadmin, check=sysadmin)
    _policy("panel_member", "admin_delete", "DELETE", app, using=sysadmin)

    _force_rls("audit_log")
    _policy(
        "audit_log", "append", "INSERT", app, check="user_id IS NULL OR user_id = csmap_user_id()"
    )
    _policy(
        "audit_log",
        "read",
        "SELECT",
        app,
        using=f"{sysadmin} OR (csmap_role() = 'agency_admin' AND "
        "(agency_id = csmap_agency_id() OR subject_agency_id = csmap_agency_id()))",
    )


def downgrade() -> None:
    for table in (
        "observation",
        "vehicle",
        "context",
        "agency",
        "agency_jurisdiction",
        "boundary_set",
    ):
        op.execute(f"DROP POLICY IF EXISTS owner_all ON {table}")
        for name in (
            "own_read",
            "own_insert",
            "own_update",
            "read",
            "admin_insert",
            "admin_update",
        ):
            op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_chain()")
    op.execute("DROP FUNCTION IF EXISTS audit_canonical(audit_log)")
    op.drop_table("audit_log")
    for table in ("login_attempt", "panel_member", "panel", "app_user"):
        op.drop_table(table)
    for fn in (
        "csmap_login_lookup(text)",
        "csmap_login_succeeded(uuid)",
        "csmap_self_set_totp(text, text[])",
        "csmap_self_use_totp_step(bigint)",
        "csmap_self_use_recovery_code(text)",
        "csmap_user_id()",
        "csmap_agency_id()",
        "csmap_role()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("DROP TYPE IF EXISTS panel_kind")
    op.execute("DROP TYPE IF EXISTS user_role")
    op.execute("DROP SEQUENCE IF EXISTS audit_log_id_seq")
