"""A lean cube and cacheable tiles (issue 17).

- ``observation.local_month`` (the calendar month in Europe/London) and
  ``observation.category_key`` (an integer key of the category: ``hashtext`` of its code) are
  stored generated columns, so the cube's aggregate does no time zone work and hashes integers
  rather than text. ``category`` gets a unique index on the same expression, so no two codes
  can ever share a key.
- The cube's aggregate groups once, at res 9, on (cell, local month, category key, agency) and
  rolls res 8 and 7 up from those rows with the H3 parent bit arithmetic of spatial/cells.py.
- ``rebuild_cell_month()`` recounts every observation and *repairs* the cube: rows that differ
  from the recount are updated, added or removed, nothing else is written. (A fresh table
  swapped in was measured and rejected: building its primary key alone costs more than the
  whole recount; see bench/RESULTS.md.) Writers wait while it runs; readers do not.
- ``cell_month_generation``: a counter per (agency, month) that the cube's triggers bump in
  the same transaction as the change. The sum over a tile's months (plus the server's epoch)
  is the version a tile is cached under: any change to those months gives a new version, so a
  cached tile can never be served stale, from any app server.
- ``cell_month_change`` touches the cube only for rows whose cell, month, category, agency or
  deletion changed (a note edit costs nothing), and removal deletes only the rows it emptied
  instead of scanning the whole cube.
- ``csmap_counts_tile``: the agency's counts tile in ONE statement: the RLS context, the cube
  version, and — only when the caller does not already hold that version — the tile itself.
- ``csmap_session_resume``: the session check and the signed-in user's row in one statement,
  so a request re-reads nothing beyond what authorisation needs.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

READERS = "('practitioner','analyst','panel_chair','agency_admin')"
LOCAL_MONTH = "(date_trunc('month', occurred_at AT TIME ZONE 'Europe/London'))::date"
CATEGORY_KEY = "hashtext(category::text)"

# The aggregate of a set of live observation rows (cell_r9, local_month, category_key,
# agency_id) into cube rows (res, cell, month, category, agency_id, n): grouped once at res 9,
# rolled up to 8 and 7 by setting the resolution field and blanking the finer digit (bits
# 52-55; the res-r digit starts at bit 45 - 3r), then the category code joined back on its key.
EVERY_RES = """
fine AS MATERIALIZED (
  SELECT s.cell_r9 AS cell, s.local_month AS month, s.category_key, s.agency_id,
         count(*)::int AS n
  FROM {source} s GROUP BY 1, 2, 3, 4),
r8 AS MATERIALIZED (
  SELECT (cell & ~(15::bigint << 52)) | (8::bigint << 52) | (7::bigint << 18) AS cell,
         month, category_key, agency_id, sum(n)::int AS n
  FROM fine GROUP BY 1, 2, 3, 4),
every_res AS (
  SELECT 9::smallint AS res, cell, month, category_key, agency_id, n FROM fine
  UNION ALL
  SELECT 8::smallint, cell, month, category_key, agency_id, n FROM r8
  UNION ALL
  SELECT 7::smallint, (cell & ~(15::bigint << 52)) | (7::bigint << 52) | (7::bigint << 21),
         month, category_key, agency_id, sum(n)::int
  FROM r8 GROUP BY 2, 3, 4, 5)"""
AGG = (
    "WITH "
    + EVERY_RES
    + """
SELECT e.res, e.cell, e.month, k.code AS category, e.agency_id, e.n
FROM every_res e JOIN category k ON hashtext(k.code::text) = e.category_key
"""
)

KEYS = "(c.res, c.cell, c.month, c.category, c.agency_id) = (d.res, d.cell, d.month, d.category, d.agency_id)"


def live(rows: str) -> str:
    """The cube-relevant columns of the live rows of a relation (a transition table)."""
    return (
        f"(SELECT cell_r9, local_month, category_key, agency_id FROM {rows}"
        " WHERE deleted_at IS NULL)"
    )


def agg(source: str) -> str:
    return AGG.replace("{source}", source)


# Bump the counters of the (agency, month) pairs in ``pairs`` (in key order, so two writers
# always lock them in the same order).
BUMP = """
  INSERT INTO cell_month_generation AS g (agency_id, month, generation)
  SELECT DISTINCT agency_id, month, 1 FROM ({pairs}) p ORDER BY 1, 2
  ON CONFLICT (agency_id, month) DO UPDATE SET generation = g.generation + 1;
"""

ADD = """
  INSERT INTO cell_month AS c (res, cell, month, category, agency_id, n)
  {agg}
  ON CONFLICT (res, cell, month, category, agency_id) DO UPDATE SET n = c.n + excluded.n;
"""

# Subtract: rows that reach zero are deleted, the others decremented (disjoint rows, so one
# statement does both, and nothing else in the cube is read).
SUBTRACT = f"""
  WITH d AS ({{agg}}),
  emptied AS (
    DELETE FROM cell_month c USING d WHERE {KEYS} AND c.n <= d.n RETURNING 1)
  UPDATE cell_month c SET n = c.n - d.n FROM d WHERE {KEYS} AND c.n > d.n;
"""

# The live rows an UPDATE took out of the cube, and those it put in.
REMOVED = f"(SELECT * FROM {live('old_rows')} o EXCEPT ALL SELECT * FROM {live('new_rows')} n)"
ADDED = f"(SELECT * FROM {live('new_rows')} n EXCEPT ALL SELECT * FROM {live('old_rows')} o)"

# The recount of every live observation, on integer keys (for the rebuild's comparison).
RECOUNT = EVERY_RES.replace("{source}", live("observation"))


def trigger_function(name: str, body: str) -> str:
    """A statement-level trigger function of the cube, run as the owner."""
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
        f" SET search_path = public, pg_temp AS $$\nBEGIN\n{body}\n  RETURN NULL;\nEND $$;\n"
    )


def months_of(rows: str) -> str:
    return f"SELECT agency_id, local_month AS month FROM {live(rows)} r"


FUNCTIONS = (
    trigger_function(
        "cell_month_add",
        ADD.format(agg=agg(live("new_rows"))) + BUMP.format(pairs=months_of("new_rows")),
    )
    + trigger_function(
        "cell_month_remove",
        SUBTRACT.format(agg=agg(live("old_rows"))) + BUMP.format(pairs=months_of("old_rows")),
    )
    + f"""
-- Only rows whose cube key or liveness changed move counts (compared as multisets, so the
-- result does not depend on matching rows by id): a note edit or a moderation costs nothing.
CREATE OR REPLACE FUNCTION cell_month_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT EXISTS ({REMOVED} UNION ALL {ADDED}) THEN
    RETURN NULL;
  END IF;
  {SUBTRACT.format(agg=agg(REMOVED))}
  {ADD.format(agg=agg(ADDED))}
  {BUMP.format(pairs=f"SELECT agency_id, local_month AS month FROM ({REMOVED} UNION ALL {ADDED}) m")}
  RETURN NULL;
END $$;

-- Recount every live observation and repair the cube where it differs; returns the number of
-- cube rows. The comparison runs on integer keys (cell_month.category_key is generated as
-- observation's is); codes are joined back only for the rows to write. Writers wait (SHARE on
-- observation); readers never see a half-built cube.
CREATE OR REPLACE FUNCTION rebuild_cell_month() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET enable_mergejoin = off AS $$
DECLARE total bigint;
BEGIN
  LOCK TABLE observation IN SHARE MODE;
  WITH {RECOUNT},
  d AS MATERIALIZED (
    SELECT coalesce(f.res, c.res) AS res, coalesce(f.cell, c.cell) AS cell,
           coalesce(f.month, c.month) AS month,
           coalesce(f.category_key, c.category_key) AS category_key,
           coalesce(f.agency_id, c.agency_id) AS agency_id, f.n
    FROM every_res f FULL JOIN cell_month c
      ON c.res = f.res AND c.cell = f.cell AND c.month = f.month
     AND c.category_key = f.category_key AND c.agency_id = f.agency_id
    WHERE f.n IS DISTINCT FROM c.n),
  gone AS (
    DELETE FROM cell_month c USING d
    WHERE d.n IS NULL AND (c.res, c.cell, c.month, c.category_key, c.agency_id)
                        = (d.res, d.cell, d.month, d.category_key, d.agency_id)
    RETURNING 1),
  put AS (
    INSERT INTO cell_month AS c (res, cell, month, category, agency_id, n)
    SELECT d.res, d.cell, d.month, k.code, d.agency_id, d.n
    FROM d JOIN category k ON hashtext(k.code::text) = d.category_key
    WHERE d.n IS NOT NULL
    ON CONFLICT (res, cell, month, category, agency_id) DO UPDATE SET n = excluded.n
    RETURNING 1)
  {BUMP.format(pairs="SELECT agency_id, month FROM d").strip().rstrip(";")};
  SELECT count(*) INTO total FROM cell_month;
  RETURN total;
END $$;

-- Emptying the cube (the demo loader's reset) changes every tile: bump every counter.
CREATE OR REPLACE FUNCTION cell_month_truncated() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE cell_month_generation SET generation = generation + 1;
  RETURN NULL;
END $$;

CREATE TRIGGER cell_month_on_truncate AFTER TRUNCATE ON cell_month
  FOR EACH STATEMENT EXECUTE FUNCTION cell_month_truncated();
"""
)

# The version a counts tile is cached under: the server's epoch (a restart — a restore to a
# point in time needs one — or a re-created database changes it) and the sum of the agency's
# counters over the months asked (all months when unresolved). Counters only grow and every
# change to the cube bumps one in the same transaction, so equal versions mean equal data.
VERSION = """
CREATE FUNCTION csmap_cube_version(p_agency uuid, p_from date, p_to date) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
  -- plpgsql, not sql: a non-inlined SQL function is planned again on every call.
  RETURN (SELECT left(md5(pg_postmaster_start_time()::text || '/' || d.oid::text), 8)
          FROM pg_database d WHERE d.datname = current_database())
    || '.' || coalesce((SELECT sum(g.generation) FROM cell_month_generation g
                        WHERE g.agency_id = p_agency
                          AND (p_from IS NULL OR g.month >= p_from)
                          AND (p_to IS NULL OR g.month <= p_to)), 0)::text;
END $$;
"""

# One statement per tile: set the caller's RLS context for this transaction (the app is
# trusted to set it, as it does for every transaction), read the version, and build the tile
# only when the caller's copy is not that version. Cells grow coarser until the tile fits.
COUNTS_TILE = """
CREATE FUNCTION csmap_counts_tile(
  p_user text, p_agency text, p_role text, p_res integer, p_from date, p_to date,
  p_cats text[], p_z integer, p_x integer, p_y integer, p_known text, p_max_bytes integer)
RETURNS TABLE (version text, res smallint, tile bytea)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  r integer := p_res;
  t bytea;
BEGIN
  PERFORM set_config('csmap.user_id', p_user, true), set_config('csmap.agency_id', p_agency, true),
          set_config('csmap.role', p_role, true), set_config('csmap.link_share', '', true);
  version := csmap_cube_version(p_agency::uuid, p_from, p_to);
  IF version = p_known THEN
    RETURN NEXT;
    RETURN;
  END IF;
  LOOP
    WITH env AS (SELECT ST_TileEnvelope(p_z, p_x, p_y) AS e),
    cells AS (
      SELECT c.cell, c.geom FROM cell c, env
      WHERE c.res = r AND c.geom && ST_Transform(env.e, 4326)),
    counts AS (
      SELECT cm.cell, sum(cm.n)::int AS n FROM cell_month cm
      WHERE cm.agency_id = p_agency::uuid AND cm.res = r AND cm.month BETWEEN p_from AND p_to
        AND (cardinality(p_cats) = 0 OR cm.category = ANY(p_cats))
        AND cm.cell IN (SELECT cell FROM cells)
      GROUP BY cm.cell)
    SELECT ST_AsMVT(q, 'cells', 4096, 'geom') INTO t FROM (
      SELECT counts.cell::text AS cell, counts.n,
             ST_AsMVTGeom(ST_Transform(cells.geom, 3857), env.e, 4096, 64, true) AS geom
      FROM counts JOIN cells USING (cell), env) q;
    EXIT WHEN t IS NULL OR length(t) <= p_max_bytes OR r <= 7;
    r := r - 1;
  END LOOP;
  res := r;
  tile := coalesce(t, ''::bytea);
  RETURN NEXT;
END $$;
"""

# The session check (0009) and the signed-in user's row, in one statement.
SESSION_RESUME = """
CREATE FUNCTION csmap_session_resume(p_token_sha256 text, p_idle_seconds integer,
                                     p_absolute_seconds integer)
RETURNS TABLE (sid uuid, uid uuid, state text, agency_id uuid, agency_name text, role text,
               email text, display_name text, session_epoch integer, totp_enabled boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- plpgsql, not sql: its plan is kept for the connection's life.
  RETURN QUERY
  SELECT s.sid, s.uid, s.state, u.agency_id, a.name::text, u.role::text, u.email::text,
         u.display_name::text, u.session_epoch, u.totp_secret IS NOT NULL
  FROM csmap_session_check(p_token_sha256, p_idle_seconds, p_absolute_seconds) s
  LEFT JOIN app_user u ON u.id = s.uid AND s.state = 'live'
  LEFT JOIN agency a ON a.id = u.agency_id;
END $$;
"""

NEW_FUNCTIONS = (
    "csmap_cube_version(uuid, date, date)",
    "csmap_counts_tile(text, text, text, integer, date, date, text[], integer, integer,"
    " integer, text, integer)",
    "csmap_session_resume(text, integer, integer)",
)


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.execute(
        f"ALTER TABLE observation ADD COLUMN local_month date GENERATED ALWAYS AS ({LOCAL_MONTH})"
        f" STORED, ADD COLUMN category_key integer GENERATED ALWAYS AS ({CATEGORY_KEY}) STORED"
    )
    op.execute(
        f"ALTER TABLE cell_month ADD COLUMN category_key integer"
        f" GENERATED ALWAYS AS ({CATEGORY_KEY}) STORED"
    )
    op.execute("CREATE UNIQUE INDEX uq_category_key ON category (hashtext(code::text))")
    op.create_table(
        "cell_month_generation",
        sa.Column("agency_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.execute("ALTER TABLE cell_month_generation ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE cell_month_generation FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY owner_all ON cell_month_generation TO CURRENT_USER"
        " USING (true) WITH CHECK (true)"
    )
    op.execute(
        f'CREATE POLICY own_read ON cell_month_generation FOR SELECT TO "{app}" USING ('
        f"agency_id = csmap_agency_id() AND csmap_role() IN {READERS})"
    )
    op.execute(f'GRANT SELECT ON cell_month_generation TO "{app}"')
    op.execute(FUNCTIONS)
    op.execute(VERSION)
    op.execute(COUNTS_TILE)
    op.execute(SESSION_RESUME)
    for fn in ("cell_month_truncated()",):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in NEW_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def _revision_0005() -> object:
    path = Path(__file__).with_name("0005_cell_lattice.py")
    spec = importlib.util.spec_from_file_location("csmap_migration_0005", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    for fn in NEW_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("DROP TRIGGER IF EXISTS cell_month_on_truncate ON cell_month")
    op.execute("DROP FUNCTION IF EXISTS cell_month_truncated()")
    for trigger in ("cell_month_on_insert", "cell_month_on_update", "cell_month_on_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON observation")
    for fn in ("cell_month_add()", "cell_month_remove()", "cell_month_change()"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("DROP FUNCTION IF EXISTS rebuild_cell_month()")
    # 0005's own functions and triggers, from its text (not a copy).
    op.execute(_revision_0005().FUNCTIONS)  # type: ignore[attr-defined]
    for fn in ("cell_month_add()", "cell_month_remove()", "cell_month_change()"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION rebuild_cell_month() FROM PUBLIC")
    op.drop_table("cell_month_generation")
    op.execute("DROP INDEX IF EXISTS uq_category_key")
    op.execute("ALTER TABLE cell_month DROP COLUMN category_key")
    op.execute("ALTER TABLE observation DROP COLUMN category_key, DROP COLUMN local_month")
