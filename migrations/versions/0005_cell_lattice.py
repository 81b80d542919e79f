"""The cell lattice in the database: cell outlines, cell → area assignment, and monthly
counts per cell kept up to date by triggers.

- ``cell``: every H3 cell (res 7, 8, 9) covering the service area, with its outline. Filled
  by ``csmap cells build`` (and the demo loader); the lattice is fixed, so this is done once.
- ``cell_area``: which area of which boundary set each cell belongs to (by the cell's centre),
  so a count for any boundary is the sum of its cells — never a spatial join over points.
- ``cell_month``: observations per (resolution, cell, calendar month in Europe/London,
  category, recording agency). Statement-level triggers with transition tables keep it exact
  on insert, update (including soft delete) and delete, so bulk imports pay one aggregate
  per statement, not one per row. ``rebuild_cell_month()`` recomputes it from scratch.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

READERS = "('practitioner','analyst','panel_chair','agency_admin')"

# One SELECT producing (res, cell, month, category, agency_id, n) from a set of observation
# rows; used by the triggers (over transition tables) and by the full rebuild. It groups once
# at res 9 and rolls up: res 8 and 7 keys are the H3 parents of the res-9 key (spatial/cells.py),
# so the coarse counts are sums of the fine ones — and one pass over the rows instead of three.
AGG = """
WITH fine AS (
  SELECT o.cell_r9, o.cell_r8, o.cell_r7,
         date_trunc('month', o.occurred_at AT TIME ZONE 'Europe/London')::date AS month,
         o.category, o.agency_id, count(*)::int AS n
  FROM {source} o WHERE o.deleted_at IS NULL
  GROUP BY 1, 2, 3, 4, 5, 6)
SELECT 9::smallint, cell_r9, month, category, agency_id, n FROM fine
UNION ALL
SELECT 8::smallint, cell_r8, month, category, agency_id, sum(n)::int FROM fine GROUP BY 2, 3, 4, 5
UNION ALL
SELECT 7::smallint, cell_r7, month, category, agency_id, sum(n)::int FROM fine GROUP BY 2, 3, 4, 5
"""

FUNCTIONS = f"""
CREATE FUNCTION cell_month_add() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO cell_month AS c (res, cell, month, category, agency_id, n)
  {AGG.format(source="new_rows")}
  ON CONFLICT (res, cell, month, category, agency_id) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;

CREATE FUNCTION cell_month_remove() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE cell_month c SET n = c.n - d.n
  FROM ({AGG.format(source="old_rows")}) AS d(res, cell, month, category, agency_id, n)
  WHERE (c.res, c.cell, c.month, c.category, c.agency_id)
      = (d.res, d.cell, d.month, d.category, d.agency_id);
  DELETE FROM cell_month WHERE n <= 0;
  RETURN NULL;
END $$;

CREATE FUNCTION cell_month_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE cell_month c SET n = c.n - d.n
  FROM ({AGG.format(source="old_rows")}) AS d(res, cell, month, category, agency_id, n)
  WHERE (c.res, c.cell, c.month, c.category, c.agency_id)
      = (d.res, d.cell, d.month, d.category, d.agency_id);
  INSERT INTO cell_month AS c (res, cell, month, category, agency_id, n)
  {AGG.format(source="new_rows")}
  ON CONFLICT (res, cell, month, category, agency_id) DO UPDATE SET n = c.n + excluded.n;
  DELETE FROM cell_month WHERE n <= 0;
  RETURN NULL;
END $$;

CREATE FUNCTION rebuild_cell_month() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE total bigint;
BEGIN
  TRUNCATE cell_month;
  INSERT INTO cell_month (res, cell, month, category, agency_id, n)
  {AGG.format(source="observation")};
  GET DIAGNOSTICS total = ROW_COUNT;
  RETURN total;
END $$;

CREATE TRIGGER cell_month_on_insert AFTER INSERT ON observation
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cell_month_add();
CREATE TRIGGER cell_month_on_update AFTER UPDATE ON observation
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION cell_month_change();
CREATE TRIGGER cell_month_on_delete AFTER DELETE ON observation
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cell_month_remove();
"""


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.create_table(
        "cell",
        sa.Column("res", sa.SmallInteger, primary_key=True),
        sa.Column("cell", sa.BigInteger, primary_key=True),
        sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("idx_cell_geom", "cell", ["geom"], postgresql_using="gist")
    op.create_table(
        "cell_area",
        sa.Column("res", sa.SmallInteger, primary_key=True),
        sa.Column("cell", sa.BigInteger, primary_key=True),
        sa.Column(
            "area_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("area.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_cell_area_area", "cell_area", ["area_id", "res"])
    op.create_table(
        "cell_month",
        sa.Column("res", sa.SmallInteger, nullable=False),
        sa.Column("cell", sa.BigInteger, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("agency_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("res", "cell", "month", "category", "agency_id"),
    )
    op.create_index("ix_cell_month_agency", "cell_month", ["agency_id", "res", "month"])
    op.execute(FUNCTIONS)

    op.execute(f'GRANT SELECT ON cell, cell_area TO "{app}"')
    op.execute(f'GRANT SELECT ON cell_month TO "{app}"')
    op.execute("ALTER TABLE cell_month ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE cell_month FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY owner_all ON cell_month TO CURRENT_USER USING (true) WITH CHECK (true)"
    )
    # Tier A: an agency's own counts, for the roles that read its records. Sharing (tiers B
    # and C) will read published cells through the redaction module, not this policy.
    op.execute(
        f'CREATE POLICY own_read ON cell_month FOR SELECT TO "{app}" USING ('
        f"agency_id = csmap_agency_id() AND csmap_role() IN {READERS})"
    )
    # The app never writes aggregates itself: only the triggers (as the owner) do.
    for fn in (
        "cell_month_add()",
        "cell_month_remove()",
        "cell_month_change()",
        "rebuild_cell_month()",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")


def downgrade() -> None:
    for trigger in ("cell_month_on_insert", "cell_month_on_update", "cell_month_on_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON observation")
    for fn in (
        "cell_month_add()",
        "cell_month_remove()",
        "cell_month_change()",
        "rebuild_cell_month()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    for table in ("cell_month", "cell_area", "cell"):
        op.drop_table(table)
