"""Recording: version history, note moderation, idempotency, cross-agency vehicle matching,
the place-feature tick-list and the police.uk reference layer.

- ``record_version``: one row per change of a context, observation or vehicle (who, when,
  which fields) — readable by the owning agency's record readers. It never holds note text.
- ``note_history``: earlier and redacted note texts, readable only by the owning agency's
  admins (FixMyStreet-style moderation: the original is kept, but not shown).
- ``idempotency_key``: a create's key, body hash and response, per user, so a retried
  request replays the first answer instead of writing twice.
- ``vehicle_matches(hmac)``: says which *other* agencies hold a vehicle with the same keyed
  HMAC of the registration mark, without returning any of their records.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

# Frozen copy of spatial.vocabulary.PLACE_FEATURES at this revision.
PLACE_FEATURES = {
    "poor_lighting": "Poor lighting",
    "no_cctv": "No CCTV",
    "poor_sightlines": "Poor sightlines",
    "isolated": "Isolated",
    "derelict": "Derelict or empty buildings",
    "drug_use_signs": "Signs of drug use",
    "young_people_gathering": "Young people gathering",
    "older_people_loitering": "Older people loitering",
    "late_night_trade": "Late-night trade",
}
READERS = "('practitioner','analyst','panel_chair','agency_admin')"
WRITERS = "('practitioner','analyst','agency_admin')"

VEHICLE_MATCHES = """
CREATE FUNCTION vehicle_matches(p_hmac bytea)
RETURNS TABLE (agency_name text, lead_contact text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT a.name::text, coalesce(a.lead_contact, '')::text
  FROM vehicle v JOIN agency a ON a.id = v.agency_id
  WHERE v.mark_hmac = p_hmac AND v.deleted_at IS NULL
    AND csmap_agency_id() IS NOT NULL AND v.agency_id <> csmap_agency_id()
$$;
"""


# Names of colleagues (same agency only) for "recorded by" and version history: the app_user
# policy lets practitioners read only their own row.
COLLEAGUE_NAMES = """
CREATE FUNCTION colleague_names(p_ids uuid[])
RETURNS TABLE (id uuid, display_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.display_name::text FROM app_user u
  WHERE u.id = ANY(p_ids) AND csmap_agency_id() IS NOT NULL AND u.agency_id = csmap_agency_id()
$$;
"""


def _rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY owner_all ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    own = "agency_id = csmap_agency_id()"

    op.add_column("agency", sa.Column("lead_contact", sa.String(300)))

    features = op.create_table(
        "place_feature",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("sort", sa.Integer, nullable=False, server_default="0"),
    )
    op.bulk_insert(
        features,
        [
            {"code": c, "label": label, "sort": i}
            for i, (c, label) in enumerate(PLACE_FEATURES.items())
        ],
    )

    op.create_table(
        "record_version",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", UUID, nullable=False),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column(
            "changed_fields",
            pg.ARRAY(sa.Text),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        sa.Column("changed_by", UUID),
        sa.Column("changed_at", TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("object_type", "object_id", "version"),
    )
    op.create_table(
        "note_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "observation_id", UUID, sa.ForeignKey("observation.id"), nullable=False, index=True
        ),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),  # edited | redacted
        sa.Column("changed_by", UUID),
        sa.Column("changed_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "idempotency_key",
        sa.Column("user_id", UUID, primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("agency_id", UUID, nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "reference_crime",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("crime_id", sa.String(100)),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("reported_by", sa.String(200)),
        sa.Column("falls_within", sa.String(200)),
        sa.Column("location", sa.String(300)),
        sa.Column("lsoa_code", sa.String(20)),
        sa.Column("lsoa_name", sa.String(200)),
        sa.Column("crime_type", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(300)),
        sa.Column("context", sa.Text),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("imported_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "idx_reference_crime_geom", "reference_crime", ["geom"], postgresql_using="gist"
    )
    op.create_index("ix_reference_crime_month", "reference_crime", ["month"])
    op.create_index(
        "uq_reference_crime_id",
        "reference_crime",
        ["crime_id"],
        unique=True,
        postgresql_where=sa.text("crime_id IS NOT NULL AND crime_id <> ''"),
    )

    # -- rights and row-level security -------------------------------------------------------
    op.execute(f'GRANT SELECT ON place_feature, reference_crime TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT ON record_version, note_history, idempotency_key TO "{app}"')

    _rls("record_version")
    # Whoever may read a record may read its history (trainers read contexts only).
    op.execute(
        f'CREATE POLICY own_read ON record_version FOR SELECT TO "{app}" USING ({own} AND '
        f"(csmap_role() IN {READERS} OR (csmap_role() = 'trainer' AND object_type = 'context')))"
    )
    op.execute(
        f'CREATE POLICY own_insert ON record_version FOR INSERT TO "{app}" WITH CHECK ({own} AND csmap_role() IN {WRITERS})'
    )

    _rls("note_history")
    op.execute(
        f"CREATE POLICY admin_read ON note_history FOR SELECT TO \"{app}\" USING ({own} AND csmap_role() = 'agency_admin')"
    )
    op.execute(
        f'CREATE POLICY own_insert ON note_history FOR INSERT TO "{app}" WITH CHECK ({own} AND csmap_role() IN {WRITERS})'
    )

    _rls("idempotency_key")
    op.execute(
        f'CREATE POLICY own_keys ON idempotency_key TO "{app}" USING (user_id = csmap_user_id()) WITH CHECK (user_id = csmap_user_id() AND {own})'
    )

    op.execute(VEHICLE_MATCHES)
    op.execute(COLLEAGUE_NAMES)
    for fn in ("vehicle_matches(bytea)", "colleague_names(uuid[])"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS vehicle_matches(bytea)")
    op.execute("DROP FUNCTION IF EXISTS colleague_names(uuid[])")
    for table in (
        "reference_crime",
        "idempotency_key",
        "note_history",
        "record_version",
        "place_feature",
    ):
        op.drop_table(table)
    op.drop_column("agency", "lead_contact")
