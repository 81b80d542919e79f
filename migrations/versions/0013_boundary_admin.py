"""Boundary sets managed in the app: upload a generation, retire one, choose the map's default.

- ``boundary_set.map_default``: the set the map shows first, chosen by a system admin (at most
  one set's current generation), instead of whichever sorts first.
- ``boundary_set.retired_at``: a generation taken out of use (no longer current); its areas
  stay, so shares and reports made against them remain explainable.
- ``csmap_boundary_import`` / ``_retire`` / ``_set_default`` (SECURITY DEFINER): the app role
  has no right to write areas or the cell → area assignment directly; a system admin (or the
  schema owner, for the CLI) does it through these, which check the role, write the whole
  generation and re-assign the lattice's cells in one statement each.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ADMIN = "(session_user = current_user OR csmap_role() = 'system_admin')"

FUNCTIONS = f"""
-- A new generation of a set: the previous ones stop being current, the areas are written and
-- every lattice cell whose centre lies in one of them is assigned to it.
CREATE FUNCTION csmap_boundary_import(p_slug text, p_name text, p_kind text, p_areas jsonb)
RETURNS TABLE (set_id uuid, generation integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_id uuid := gen_random_uuid();
  v_gen integer;
  v_default boolean;
BEGIN
  IF NOT {ADMIN} THEN
    RAISE EXCEPTION 'csmap: only a system admin imports boundary sets'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('csmap.boundary:' || p_slug, 0));
  SELECT coalesce(max(b.generation), 0) + 1, coalesce(bool_or(b.map_default AND b.is_current),
         false)
    INTO v_gen, v_default FROM boundary_set b WHERE b.slug = p_slug;
  DELETE FROM cell_area ca USING area a, boundary_set b
   WHERE ca.area_id = a.id AND a.boundary_set_id = b.id AND b.slug = p_slug AND b.is_current;
  UPDATE boundary_set b SET is_current = false, map_default = false
   WHERE b.slug = p_slug AND b.is_current;
  INSERT INTO boundary_set (id, slug, name, kind, generation, is_current, map_default)
  VALUES (v_id, p_slug, p_name, p_kind::boundary_set_kind, v_gen, true, v_default);
  INSERT INTO area (boundary_set_id, code, name, geom)
  SELECT v_id, e->>0, e->>1, ST_Multi(ST_GeomFromText(e->>2, 4326))
  FROM jsonb_array_elements(p_areas) e;
  INSERT INTO cell_area (res, cell, area_id)
  SELECT c.res, c.cell, a.id FROM area a
  JOIN cell c ON ST_Intersects(a.geom, ST_PointOnSurface(c.geom))
  WHERE a.boundary_set_id = v_id;
  set_id := v_id;
  generation := v_gen;
  RETURN NEXT;
END
$$;

-- Retire a generation: no longer current, its cells unassigned. Its areas stay.
CREATE FUNCTION csmap_boundary_retire(p_set_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT {ADMIN} THEN
    RAISE EXCEPTION 'csmap: only a system admin retires boundary sets'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  DELETE FROM cell_area ca USING area a WHERE ca.area_id = a.id AND a.boundary_set_id = p_set_id;
  UPDATE boundary_set SET is_current = false, map_default = false, retired_at = now()
   WHERE id = p_set_id AND retired_at IS NULL;
  RETURN FOUND;
END
$$;

-- The set the map shows first: one at a time.
CREATE FUNCTION csmap_boundary_set_default(p_slug text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT {ADMIN} THEN
    RAISE EXCEPTION 'csmap: only a system admin chooses the default boundary set'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  UPDATE boundary_set SET map_default = false WHERE map_default;
  UPDATE boundary_set SET map_default = true WHERE slug = p_slug AND is_current;
  RETURN FOUND;
END
$$;
"""
SIGNATURES = (
    "csmap_boundary_import(text, text, text, jsonb)",
    "csmap_boundary_retire(uuid)",
    "csmap_boundary_set_default(text)",
)


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.add_column(
        "boundary_set",
        sa.Column("map_default", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("boundary_set", sa.Column("retired_at", sa.DateTime(timezone=True)))
    op.create_index(
        "uq_boundary_set_map_default",
        "boundary_set",
        ["map_default"],
        unique=True,
        postgresql_where=sa.text("map_default"),
    )
    # Today's behaviour, now a choice: wards, else the first set by name.
    op.execute(
        "UPDATE boundary_set SET map_default = true WHERE id = (SELECT id FROM boundary_set"
        " WHERE is_current ORDER BY kind::text <> 'council_ward', name LIMIT 1)"
    )
    op.execute(FUNCTIONS)
    for fn in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def downgrade() -> None:
    for fn in reversed(SIGNATURES):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.drop_index("uq_boundary_set_map_default", table_name="boundary_set")
    op.drop_column("boundary_set", "retired_at")
    op.drop_column("boundary_set", "map_default")
