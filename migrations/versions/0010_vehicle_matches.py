"""Vehicle matches: recorded, limited and mutual.

Before this revision any user could ask "has another agency reported this mark?" as often as
they liked, without a sighting, and the agency asked about never knew: a mark was recovered
by guessing. Now:

- ``vehicle_match_query``: one row per match query (agency, user, the querying agency's own
  vehicle, how many agencies matched, when). The app counts these rows to limit queries per
  user and per agency (the state lives here, so every worker sees it).
- ``vehicle_match_notice``: one row per matched vehicle of another agency, telling *that*
  agency who asked (agency and user, by name and role, as they were at the time) and when,
  as police de-confliction does. Only the matched agency's record readers see its notices.
- ``csmap_vehicle_match(vehicle)`` (SECURITY DEFINER) is now the only way to match: it
  writes the query row and the notices, then returns the other agencies' names and lead
  contacts — never a record, id or mark. A caller cannot match without being recorded, and
  cannot read or forge notices. The old ``vehicle_matches(hmac)``, which did neither, is
  dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)
# Frozen copies of the role lists at this revision (migrations never import the app).
READERS = "('practitioner','analyst','panel_chair','agency_admin')"
WRITERS = "('practitioner','analyst','agency_admin')"

MATCH = f"""
CREATE FUNCTION csmap_vehicle_match(p_vehicle uuid)
RETURNS TABLE (agency_name text, lead_contact text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_hmac bytea;
  v_found integer;
BEGIN
  -- Only a recorder, about a live vehicle of their own agency.
  IF csmap_user_id() IS NULL OR csmap_role() NOT IN {WRITERS} THEN
    RETURN;
  END IF;
  SELECT v.mark_hmac INTO v_hmac FROM vehicle v
  WHERE v.id = p_vehicle AND v.agency_id = csmap_agency_id() AND v.deleted_at IS NULL;
  IF v_hmac IS NULL THEN
    RETURN;
  END IF;
  INSERT INTO vehicle_match_notice (agency_id, vehicle_id, from_agency_id, from_user_id,
                                    from_agency_name, from_user_name, from_role)
  SELECT v.agency_id, v.id, qa.id, u.id, qa.name, u.display_name, u.role::text
  FROM vehicle v, agency qa, app_user u
  WHERE v.mark_hmac = v_hmac AND v.deleted_at IS NULL AND v.agency_id <> csmap_agency_id()
    AND qa.id = csmap_agency_id() AND u.id = csmap_user_id() AND u.agency_id = qa.id;
  SELECT count(DISTINCT v.agency_id) INTO v_found FROM vehicle v
  WHERE v.mark_hmac = v_hmac AND v.deleted_at IS NULL AND v.agency_id <> csmap_agency_id();
  INSERT INTO vehicle_match_query (agency_id, user_id, vehicle_id, matched)
  VALUES (csmap_agency_id(), csmap_user_id(), p_vehicle, v_found);
  RETURN QUERY
    SELECT DISTINCT a.name::text, coalesce(a.lead_contact, '')::text
    FROM vehicle v JOIN agency a ON a.id = v.agency_id
    WHERE v.mark_hmac = v_hmac AND v.deleted_at IS NULL AND v.agency_id <> csmap_agency_id();
END $$;
"""

# 0004's function, for the downgrade.
OLD_MATCHES = """
CREATE FUNCTION vehicle_matches(p_hmac bytea)
RETURNS TABLE (agency_name text, lead_contact text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT a.name::text, coalesce(a.lead_contact, '')::text
  FROM vehicle v JOIN agency a ON a.id = v.agency_id
  WHERE v.mark_hmac = p_hmac AND v.deleted_at IS NULL
    AND csmap_agency_id() IS NOT NULL AND v.agency_id <> csmap_agency_id()
$$;
"""


def _force_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY owner_all ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def _grant_execute(app: str, signature: str) -> None:
    op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION {signature} TO "{app}"')


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.create_table(
        "vehicle_match_query",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("user_id", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("vehicle_id", UUID, sa.ForeignKey("vehicle.id"), nullable=False),
        sa.Column("matched", sa.Integer, nullable=False),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_vehicle_match_query_agency_at", "vehicle_match_query", ["agency_id", "at"])
    op.create_table(
        "vehicle_match_notice",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("vehicle_id", UUID, sa.ForeignKey("vehicle.id"), nullable=False, index=True),
        sa.Column("from_agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("from_user_id", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("from_agency_name", sa.String(200), nullable=False),
        sa.Column("from_user_name", sa.String(200), nullable=False),
        sa.Column("from_role", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
    )

    own = "agency_id = csmap_agency_id()"
    _force_rls("vehicle_match_query")
    # Recorders count their agency's queries (the limits); rows are written by the function.
    op.execute(f'GRANT SELECT ON vehicle_match_query TO "{app}"')
    op.execute(
        f'CREATE POLICY own_read ON vehicle_match_query FOR SELECT TO "{app}"'
        f" USING ({own} AND csmap_role() IN {WRITERS})"
    )
    _force_rls("vehicle_match_notice")
    # Only the matched agency's record readers see who asked about its vehicles. No INSERT,
    # UPDATE or DELETE for the app: notices are written by csmap_vehicle_match alone.
    op.execute(f'GRANT SELECT ON vehicle_match_notice TO "{app}"')
    op.execute(
        f'CREATE POLICY matched_read ON vehicle_match_notice FOR SELECT TO "{app}"'
        f" USING ({own} AND csmap_role() IN {READERS})"
    )

    op.execute("DROP FUNCTION IF EXISTS vehicle_matches(bytea)")
    op.execute(MATCH)
    _grant_execute(app, "csmap_vehicle_match(uuid)")


def downgrade() -> None:
    app = context.config.attributes["app_role"]
    op.execute("DROP FUNCTION IF EXISTS csmap_vehicle_match(uuid)")
    op.execute(OLD_MATCHES)
    _grant_execute(app, "vehicle_matches(bytea)")
    op.drop_table("vehicle_match_notice")
    op.drop_table("vehicle_match_query")
