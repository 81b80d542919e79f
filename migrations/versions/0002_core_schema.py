"""Core schema: agencies, boundary sets and areas, categories, contexts, vehicles,
observations (with their cell keys) and the demo base map.

The app role gets only what it needs: read on reference tables, no DELETE anywhere (records
are soft-deleted; nothing acknowledged is lost).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

# Frozen copies of spatial.vocabulary as it stood at this revision: a migration is a snapshot,
# so a later vocabulary change needs a new migration, not an edit here.
AGENCY_KINDS = (
    "police",
    "childrens_social_care",
    "health",
    "education",
    "youth_justice",
    "vcse",
    "transport_operator",
    "business",
)
CONTEXT_KINDS = (
    "hotspot",
    "transport_route",
    "transport_hub",
    "place_of_concern",
    "protective_space",
)
CONTEXT_STATUSES = ("referred", "assessing", "plan", "review", "closed")
BOUNDARY_SET_KINDS = (
    "council_ward",
    "police_neighbourhood",
    "health_area",
    "school_catchment",
    "ldsm_area",
    "other",
)
CATEGORIES = {
    "suspected_drug_running": "Suspected drug running",
    "weapon_found": "Weapon found",
    "missing_child_found": "Missing child found here",
    "older_males_approaching": "Older males approaching children",
    "vehicle_of_interest": "Vehicle of interest",
    "unexplained_goods": "Child with unexplained money or goods",
    "cuckooing_concern": "Cuckooing concern",
    "child_out_late": "Child out late, unaccompanied",
}

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _created() -> sa.Column:
    return sa.Column("created_at", TS, nullable=False, server_default=sa.func.now())


def _versioned() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _created(),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", TS),
        sa.Column("deleted_reason", sa.Text),
    ]


def _geom(kind: str) -> Geometry:
    # Spatial indexes are created explicitly below, so say so here.
    return Geometry(kind, srid=4326, spatial_index=False)


def _gist(table: str, column: str = "geom") -> None:
    op.create_index(f"idx_{table}_{column}", table, [column], postgresql_using="gist")


def upgrade() -> None:
    agency_kind = pg.ENUM(*AGENCY_KINDS, name="agency_kind")
    context_kind = pg.ENUM(*CONTEXT_KINDS, name="context_kind")
    context_status = pg.ENUM(*CONTEXT_STATUSES, name="context_status")
    boundary_set_kind = pg.ENUM(*BOUNDARY_SET_KINDS, name="boundary_set_kind")

    op.create_table(
        "agency",
        _id(),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", agency_kind, nullable=False),
        _created(),
    )
    op.create_table(
        "boundary_set",
        _id(),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", boundary_set_kind, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
        sa.Column("is_current", sa.Boolean, nullable=False, server_default="true"),
        _created(),
        sa.UniqueConstraint("slug", "generation"),
    )
    op.create_table(
        "area",
        _id(),
        sa.Column(
            "boundary_set_id",
            UUID,
            sa.ForeignKey("boundary_set.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
        sa.UniqueConstraint("boundary_set_id", "code"),
    )
    _gist("area")
    op.create_table(
        "agency_jurisdiction",
        sa.Column(
            "agency_id", UUID, sa.ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("area_id", UUID, sa.ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
    )
    category = op.create_table(
        "category",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("sort", sa.Integer, nullable=False, server_default="0"),
    )
    op.bulk_insert(
        category,
        [{"code": c, "label": label, "sort": i} for i, (c, label) in enumerate(CATEGORIES.items())],
    )
    op.create_table(
        "context",
        _id(),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False, index=True),
        sa.Column("created_by", UUID),
        sa.Column("kind", context_kind, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("geom", _geom("GEOMETRY"), nullable=False),
        sa.Column("public_place", sa.Boolean, nullable=False, server_default="false"),
        sa.Column(
            "features", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")
        ),
        sa.Column("status", context_status, nullable=False, server_default="referred"),
        sa.Column("last_confirmed", sa.Date),
        sa.Column("operator", sa.String(200)),
        sa.Column("route_name", sa.String(100)),
        *_versioned(),
    )
    _gist("context")
    op.create_table(
        "vehicle",
        _id(),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False, index=True),
        sa.Column("registration_mark", sa.String(32), nullable=False),
        sa.Column("registration_normalised", sa.String(32), nullable=False),
        sa.Column("mark_hmac", sa.LargeBinary(32), nullable=False, index=True),
        sa.Column("make", sa.String(64)),
        sa.Column("model", sa.String(64)),
        sa.Column("colour", sa.String(32)),
        *_versioned(),
    )
    op.create_table(
        "observation",
        _id(),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("recorded_by", UUID),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("geom", _geom("POINT"), nullable=False),
        sa.Column("category", sa.String(64), sa.ForeignKey("category.code"), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("context_id", UUID, sa.ForeignKey("context.id")),
        sa.Column(
            "young_person_refs",
            pg.ARRAY(sa.Text),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        sa.Column("source_grade", sa.String(1), nullable=False, server_default="C"),
        sa.Column("info_grade", sa.SmallInteger, nullable=False, server_default="3"),
        sa.Column("vehicle_id", UUID, sa.ForeignKey("vehicle.id")),
        sa.Column("cell_r7", sa.BigInteger, nullable=False),
        sa.Column("cell_r8", sa.BigInteger, nullable=False, index=True),
        sa.Column("cell_r9", sa.BigInteger, nullable=False),
        *_versioned(),
        sa.CheckConstraint("source_grade IN ('A','B','C','D','E')", name="source_grade_valid"),
        sa.CheckConstraint("info_grade BETWEEN 1 AND 5", name="info_grade_valid"),
    )
    op.create_index("ix_observation_agency_time", "observation", ["agency_id", "occurred_at"])
    _gist("observation")
    op.create_table(
        "basemap_feature",
        _id(),
        sa.Column("layer", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(200)),
        sa.Column("kind", sa.String(32)),
        sa.Column("geom", _geom("GEOMETRY"), nullable=False),
    )

    app = context.config.attributes["app_role"]
    # /healthz reports the schema revision as the app role.
    op.execute(f'GRANT SELECT ON alembic_version TO "{app}"')
    for table in (
        "agency",
        "boundary_set",
        "area",
        "agency_jurisdiction",
        "category",
        "basemap_feature",
    ):
        op.execute(f'GRANT SELECT ON "{table}" TO "{app}"')
    for table in ("context", "vehicle", "observation"):
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON "{table}" TO "{app}"')


def downgrade() -> None:
    for table in (
        "basemap_feature",
        "observation",
        "vehicle",
        "context",
        "category",
        "agency_jurisdiction",
        "area",
        "boundary_set",
        "agency",
    ):
        op.drop_table(table)
    for enum in ("boundary_set_kind", "context_status", "context_kind", "agency_kind"):
        op.execute(f"DROP TYPE IF EXISTS {enum}")
