"""The publication ledger: every tier B/C number is read from a release written once.

- ``publication``: one row per (source agency, tier, calendar period), written when the
  period has closed plus the tier's lag, with the profile then in force frozen on it, the
  SHA-256 of its canonical content and the previous publication's hash (a chain per agency).
  No two publications of one agency and tier overlap in time, so a recipient can never
  subtract two releases of the same days.
- ``publication_cell`` / ``_context`` / ``_mark``: what was published — cell counts (or band
  labels), contexts under an opaque id of their own (never the record's), masked marks per cell.
- All four are append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, for the owner too.
- Recipients never read them directly: narrow SECURITY DEFINER functions hand out only the
  rows of a share's source and tier, in the share's whole periods and whole cells, to a
  caller for whom ``csmap_share_readable`` holds. The facts a publication is computed from
  are handed out only for a period that has closed and is not yet published.
- ``share_cell`` gains ``res``: a share's cells are stored at every lattice resolution its tier
  may be published at (8 and 7 for B, 7 for C), so a later, coarser profile still finds them.
- ``share.external_key``: the normalised name and organisation of a named external recipient,
  so "one audience, one tier" can be checked however the name is typed.
- ``csmap_share_facts``, ``_contexts`` and ``_vehicle_marks`` (0006), which handed recipients
  live rows, are dropped: no shared output reads live rows any more.
- ``csmap_share_audience_tiers`` replaces ``csmap_share_audience_profiles``: every share of the
  caller's agency (live, pending, revoked or expired; not rejected) that reaches the given
  agencies or external key, with its tier.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import h3
import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)
READERS = "('practitioner','analyst','panel_chair','agency_admin')"
TABLES = ("publication", "publication_cell", "publication_context", "publication_mark")

# A caller may have a source's tier published when it is the schema owner (the CLI), a reader
# of the source agency (or its trainer, for tier C), or may read a share of that source and tier.
FUNCTIONS = f"""
CREATE FUNCTION csmap_publication_allowed(p_agency uuid, p_tier text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT session_user = current_user
    OR (p_agency = csmap_agency_id()
        AND (csmap_role() IN {READERS} OR (csmap_role() = 'trainer' AND p_tier = 'C')))
    OR EXISTS (SELECT 1 FROM share s WHERE s.from_agency_id = p_agency AND s.tier = p_tier
               AND csmap_share_readable(s.id))
$$;

-- The first day of the month in progress, in Europe/London: nothing from it on is published.
CREATE FUNCTION csmap_month_in_progress() RETURNS date
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT date_trunc('month', now() AT TIME ZONE 'Europe/London')::date
$$;

-- The (start, end) of every publication of a source and tier: what a publisher plans from.
CREATE FUNCTION csmap_publication_index(p_agency uuid, p_tier text)
RETURNS TABLE (period_start date, period_end date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p.period_start, p.period_end FROM publication p
  WHERE p.agency_id = p_agency AND p.tier = p_tier AND csmap_publication_allowed(p_agency, p_tier)
  ORDER BY p.period_start
$$;

-- The source agency's own profile settings for a tier (NULL: the floor applies).
CREATE FUNCTION csmap_publication_profile(p_agency uuid, p_tier text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT settings FROM agency_profile
  WHERE agency_id = p_agency AND tier = p_tier AND csmap_publication_allowed(p_agency, p_tier)
$$;

-- Whether [p_start, p_end) may be published now: closed, and no publication overlaps it.
CREATE FUNCTION csmap_publication_open(p_agency uuid, p_tier text, p_start date, p_end date)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p_end > p_start AND p_end <= csmap_month_in_progress()
    AND csmap_publication_allowed(p_agency, p_tier)
    AND NOT EXISTS (SELECT 1 FROM publication p WHERE p.agency_id = p_agency
                    AND p.tier = p_tier AND p.period_start < p_end AND p.period_end > p_start)
$$;

-- What a publication is computed from: the source's live observations in a closed period not
-- yet published (res-9 cell, time, salted hashes of young people's references, the vehicle's
-- normalised mark). Only the app's redaction module sees these; they are never output.
CREATE FUNCTION csmap_publication_facts(p_agency uuid, p_tier text, p_start date, p_end date)
RETURNS TABLE (cell_r9 bigint, occurred_at timestamptz, person_keys text[], mark text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT o.cell_r9, o.occurred_at,
         ARRAY(SELECT md5(p_agency::text || ':' || lower(btrim(r)))
               FROM unnest(o.young_person_refs) AS r WHERE btrim(r) <> ''),
         v.registration_normalised::text
  FROM observation o LEFT JOIN vehicle v ON v.id = o.vehicle_id AND v.deleted_at IS NULL
  WHERE o.agency_id = p_agency AND o.deleted_at IS NULL
    AND o.occurred_at >= (p_start::timestamp AT TIME ZONE 'Europe/London')
    AND o.occurred_at < (p_end::timestamp AT TIME ZONE 'Europe/London')
    AND csmap_publication_open(p_agency, p_tier, p_start, p_end)
$$;

-- The source's live contexts with their representative point, for the same publication.
CREATE FUNCTION csmap_publication_context_facts(
  p_agency uuid, p_tier text, p_start date, p_end date)
RETURNS TABLE (kind text, name text, public_place boolean, lon float8, lat float8)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.kind::text, c.name::text, c.public_place,
         ST_X(ST_PointOnSurface(c.geom)), ST_Y(ST_PointOnSurface(c.geom))
  FROM context c
  WHERE c.agency_id = p_agency AND c.deleted_at IS NULL
    AND csmap_publication_open(p_agency, p_tier, p_start, p_end)
$$;

-- The canonical text of a publication's content, hashed into its sha256.
CREATE FUNCTION csmap_publication_canonical(p_id uuid) RETURNS text
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT jsonb_build_object(
    'agency', p.agency_id, 'tier', p.tier, 'period', p.period,
    'start', p.period_start, 'end', p.period_end, 'profile', p.profile,
    'published_at', to_char(p.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'prev', p.prev_sha256,
    'cells', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.cell, c.n, c.band) ORDER BY c.cell),
                              '[]') FROM publication_cell c WHERE c.publication_id = p.id),
    'contexts', (SELECT coalesce(jsonb_agg(jsonb_build_array(x.ref, x.cell, x.kind, x.name,
                                 x.lon, x.lat, x.precise) ORDER BY x.ref), '[]')
                 FROM publication_context x WHERE x.publication_id = p.id),
    'marks', (SELECT coalesce(jsonb_agg(jsonb_build_array(m.cell, m.mark)
                              ORDER BY m.cell, m.mark), '[]')
              FROM publication_mark m WHERE m.publication_id = p.id))::text
  FROM publication p WHERE p.id = p_id
$$;

-- Write one publication (once): refused unless the period may be published now; if another
-- request published the same period meanwhile, that one's id is returned and nothing written.
CREATE FUNCTION csmap_publication_write(
  p_agency uuid, p_tier text, p_period text, p_start date, p_end date, p_profile jsonb,
  p_resolution smallint, p_cells jsonb, p_contexts jsonb, p_marks jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_id uuid;
  v_prev text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('csmap.publication:' || p_agency::text, 0));
  SELECT id INTO v_id FROM publication WHERE agency_id = p_agency AND tier = p_tier
    AND period_start = p_start AND period_end = p_end;
  IF v_id IS NOT NULL THEN
    RETURN v_id;
  END IF;
  IF NOT csmap_publication_open(p_agency, p_tier, p_start, p_end) THEN
    RAISE EXCEPTION 'csmap: % to % may not be published now', p_start, p_end
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT sha256 INTO v_prev FROM publication WHERE agency_id = p_agency ORDER BY seq DESC LIMIT 1;
  INSERT INTO publication (agency_id, tier, period, period_start, period_end, profile,
                           resolution, published_by, prev_sha256, sha256)
  VALUES (p_agency, p_tier, p_period, p_start, p_end, p_profile, p_resolution,
          csmap_user_id(), v_prev, '')
  RETURNING id INTO v_id;
  INSERT INTO publication_cell (publication_id, cell, n, band)
  SELECT v_id, (e->>0)::bigint, (e->>1)::int, e->>2 FROM jsonb_array_elements(p_cells) e;
  INSERT INTO publication_context (publication_id, ref, cell, kind, name, lon, lat, precise)
  SELECT v_id, (e->>0)::uuid, (e->>1)::bigint, e->>2, e->>3, (e->>4)::float8, (e->>5)::float8,
         (e->>6)::boolean
  FROM jsonb_array_elements(p_contexts) e;
  INSERT INTO publication_mark (publication_id, cell, mark)
  SELECT v_id, (e->>0)::bigint, e->>1 FROM jsonb_array_elements(p_marks) e;
  -- The hash is set by the one statement the append-only trigger lets through.
  PERFORM set_config('csmap.sealing', v_id::text, true);
  UPDATE publication SET sha256 = encode(sha256(convert_to(csmap_publication_canonical(v_id),
                                                           'UTF8')), 'hex')
  WHERE id = v_id;
  PERFORM set_config('csmap.sealing', '', true);
  RETURN v_id;
END
$$;

-- Publications are append-only for everyone. The one exception is the demo loader, which
-- replaces the whole fictional town (and so its ledger) with TRUNCATE, saying so first.
CREATE FUNCTION csmap_publication_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' AND current_setting('csmap.demo_reset', true) = 'on' THEN
    RETURN NULL;
  END IF;
  -- Sealing: the write function sets the hash of the row it has just inserted, once.
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'publication' THEN
    IF OLD.sha256 = '' AND current_setting('csmap.sealing', true) = OLD.id::text
       AND (to_jsonb(NEW) - 'sha256') = (to_jsonb(OLD) - 'sha256') THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'csmap: publications are written once and never changed'
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The publications a share shows: its source and tier, wholly inside its periods.
CREATE FUNCTION csmap_share_publications(p_share uuid)
RETURNS TABLE (id uuid, period text, period_start date, period_end date, profile jsonb,
               resolution smallint, published_at timestamptz, sha256 text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p.id, p.period, p.period_start, p.period_end, p.profile, p.resolution, p.published_at,
         p.sha256
  FROM share s JOIN publication p ON p.agency_id = s.from_agency_id AND p.tier = s.tier
  WHERE s.id = p_share AND csmap_share_readable(p_share)
    AND p.period_start >= s.period_from AND (s.period_to IS NULL OR p.period_end <= s.period_to)
  ORDER BY p.period_start
$$;

-- The published cells of those publications that lie in the share's cells.
CREATE FUNCTION csmap_share_published_cells(p_share uuid)
RETURNS TABLE (period text, cell bigint, n int, band text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p.period, c.cell, c.n, c.band
  FROM share s JOIN csmap_share_publications(p_share) p ON true
  JOIN publication_cell c ON c.publication_id = p.id
  JOIN share_cell sc ON sc.share_id = s.id AND sc.res = p.resolution AND sc.cell = c.cell
  WHERE s.id = p_share AND 'observations' = ANY (s.layers)
  ORDER BY p.period_start, c.cell
$$;

-- The contexts of the share's latest publication that lie in its cells.
CREATE FUNCTION csmap_share_published_contexts(p_share uuid)
RETURNS TABLE (ref uuid, kind text, name text, lon float8, lat float8, precise boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT x.ref, x.kind, x.name, x.lon, x.lat, x.precise
  FROM share s
  JOIN LATERAL (SELECT * FROM csmap_share_publications(p_share)
                ORDER BY period_start DESC LIMIT 1) p ON true
  JOIN publication_context x ON x.publication_id = p.id
  JOIN share_cell sc ON sc.share_id = s.id AND sc.res = p.resolution AND sc.cell = x.cell
  WHERE s.id = p_share AND 'contexts' = ANY (s.layers)
  ORDER BY x.ref
$$;

-- The masked marks published in the share's cells and periods.
CREATE FUNCTION csmap_share_published_marks(p_share uuid) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT m.mark
  FROM share s JOIN csmap_share_publications(p_share) p ON true
  JOIN publication_mark m ON m.publication_id = p.id
  JOIN share_cell sc ON sc.share_id = s.id AND sc.res = p.resolution AND sc.cell = m.cell
  WHERE s.id = p_share AND 'vehicles' = ANY (s.layers)
  ORDER BY 1
$$;

-- Every share of the caller's agency that reaches one of the given agencies (as a recipient or
-- a member of the recipient panel) or the given external recipient (same normalised name, or
-- same organisation), whatever its state except rejected: a recipient keeps what it
-- downloaded, so revoked and expired shares count.
CREATE FUNCTION csmap_share_audience_tiers(p_agencies uuid[], p_name text, p_org text)
RETURNS TABLE (id uuid, tier text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, s.tier::text FROM share s
  WHERE csmap_agency_id() IS NOT NULL AND s.from_agency_id = csmap_agency_id()
    AND s.status <> 'rejected'
    AND (EXISTS (SELECT 1 FROM share_recipient r
                 WHERE r.share_id = s.id AND r.agency_id = ANY (p_agencies))
         OR EXISTS (SELECT 1 FROM panel_member m
                    WHERE m.panel_id = s.panel_id AND m.agency_id = ANY (p_agencies))
         OR (s.external_key IS NOT NULL
             AND (split_part(s.external_key, '|', 1) = p_name
                  OR (p_org <> '' AND split_part(s.external_key, '|', 2) = p_org))))
  ORDER BY s.created_at
$$;

-- Adding an agency to a panel must not give it a second tier of a source's data: a share of
-- one tier to the panel, while the agency already receives another tier of the same source
-- (directly, or through another panel). For the system admin, who manages panels but may not
-- read shares: the source's name and the two tiers, nothing else.
CREATE FUNCTION csmap_panel_member_clash(p_panel uuid, p_agency uuid)
RETURNS TABLE (source text, panel_tier text, held_tier text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT a.name::text, s.tier::text, h.tier::text
  FROM share s JOIN agency a ON a.id = s.from_agency_id
  JOIN share h ON h.from_agency_id = s.from_agency_id AND h.tier <> s.tier
   AND h.status <> 'rejected'
  WHERE s.panel_id = p_panel AND s.status <> 'rejected' AND s.from_agency_id <> p_agency
    AND csmap_role() = 'system_admin'
    AND (EXISTS (SELECT 1 FROM share_recipient r
                 WHERE r.share_id = h.id AND r.agency_id = p_agency)
         OR EXISTS (SELECT 1 FROM panel_member m
                    WHERE m.panel_id = h.panel_id AND m.agency_id = p_agency))
  LIMIT 1
$$;
"""
SIGNATURES = (
    "csmap_publication_allowed(uuid, text)",
    "csmap_month_in_progress()",
    "csmap_publication_index(uuid, text)",
    "csmap_publication_profile(uuid, text)",
    "csmap_publication_open(uuid, text, date, date)",
    "csmap_publication_facts(uuid, text, date, date)",
    "csmap_publication_context_facts(uuid, text, date, date)",
    "csmap_publication_canonical(uuid)",
    "csmap_publication_write(uuid, text, text, date, date, jsonb, smallint, jsonb, jsonb, jsonb)",
    "csmap_share_publications(uuid)",
    "csmap_share_published_cells(uuid)",
    "csmap_share_published_contexts(uuid)",
    "csmap_share_published_marks(uuid)",
    "csmap_share_audience_tiers(uuid[], text, text)",
    "csmap_panel_member_clash(uuid, uuid)",
)
# The app calls these; the others are their helpers (or the trigger's).
APP_CALLS = (
    "csmap_publication_index(uuid, text)",
    "csmap_publication_profile(uuid, text)",
    "csmap_publication_facts(uuid, text, date, date)",
    "csmap_publication_context_facts(uuid, text, date, date)",
    "csmap_publication_write(uuid, text, text, date, date, jsonb, smallint, jsonb, jsonb, jsonb)",
    "csmap_share_publications(uuid)",
    "csmap_share_published_cells(uuid)",
    "csmap_share_published_contexts(uuid)",
    "csmap_share_published_marks(uuid)",
    "csmap_share_audience_tiers(uuid[], text, text)",
    "csmap_month_in_progress()",
    "csmap_panel_member_clash(uuid, uuid)",
)

AUDIENCE_PROFILES_0007 = """
CREATE FUNCTION csmap_share_audience_profiles(p_agencies uuid[])
RETURNS TABLE (id uuid, tier text, profile jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, s.tier::text, s.profile FROM share s
  WHERE csmap_agency_id() IS NOT NULL AND s.from_agency_id = csmap_agency_id()
    AND s.status <> 'rejected' AND s.revoked_at IS NULL AND s.expires_at > now()
    AND (EXISTS (SELECT 1 FROM share_recipient r
                 WHERE r.share_id = s.id AND r.agency_id = ANY (p_agencies))
         OR EXISTS (SELECT 1 FROM panel_member m
                    WHERE m.panel_id = s.panel_id AND m.agency_id = ANY (p_agencies)))
$$;
REVOKE ALL ON FUNCTION csmap_share_audience_profiles(uuid[]) FROM PUBLIC;
"""

LIVE_READS_0006 = """
CREATE FUNCTION csmap_share_facts(p_share uuid)
RETURNS TABLE (cell_r9 bigint, occurred_at timestamptz, person_keys text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT o.cell_r9, o.occurred_at,
         ARRAY(SELECT md5(s.id::text || ':' || lower(btrim(r)))
               FROM unnest(o.young_person_refs) AS r WHERE btrim(r) <> '')
  FROM share s
  JOIN observation o ON o.agency_id = s.from_agency_id AND o.deleted_at IS NULL
  JOIN share_cell c ON c.share_id = s.id
   AND c.cell = CASE s.resolution WHEN 9 THEN o.cell_r9 WHEN 8 THEN o.cell_r8 ELSE o.cell_r7 END
  WHERE s.id = p_share AND csmap_share_readable(p_share) AND 'observations' = ANY (s.layers)
    AND o.occurred_at >= (s.period_from::timestamp AT TIME ZONE 'Europe/London')
    AND (s.period_to IS NULL
         OR o.occurred_at < (s.period_to::timestamp AT TIME ZONE 'Europe/London'))
$$;
CREATE FUNCTION csmap_share_contexts(p_share uuid)
RETURNS TABLE (id uuid, kind text, name text, public_place boolean, lon float8, lat float8)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT x.id, x.kind::text, x.name::text, x.public_place, ST_X(x.pt), ST_Y(x.pt)
  FROM share s
  JOIN LATERAL (SELECT c.id, c.kind, c.name, c.public_place, ST_PointOnSurface(c.geom) AS pt
                FROM context c
                WHERE c.agency_id = s.from_agency_id AND c.deleted_at IS NULL) x ON true
  WHERE s.id = p_share AND csmap_share_readable(p_share) AND 'contexts' = ANY (s.layers)
    AND EXISTS (SELECT 1 FROM share_cell sc JOIN cell g ON g.res = s.resolution
                AND g.cell = sc.cell WHERE sc.share_id = s.id AND ST_Intersects(g.geom, x.pt))
$$;
CREATE FUNCTION csmap_share_vehicle_marks(p_share uuid) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT v.registration_normalised::text
  FROM share s
  JOIN observation o ON o.agency_id = s.from_agency_id AND o.deleted_at IS NULL
  JOIN vehicle v ON v.id = o.vehicle_id AND v.deleted_at IS NULL
  JOIN share_cell c ON c.share_id = s.id
   AND c.cell = CASE s.resolution WHEN 9 THEN o.cell_r9 WHEN 8 THEN o.cell_r8 ELSE o.cell_r7 END
  WHERE s.id = p_share AND csmap_share_readable(p_share) AND 'vehicles' = ANY (s.layers)
    AND o.occurred_at >= (s.period_from::timestamp AT TIME ZONE 'Europe/London')
    AND (s.period_to IS NULL
         OR o.occurred_at < (s.period_to::timestamp AT TIME ZONE 'Europe/London'))
$$;
"""
LIVE_READ_SIGNATURES_0006 = (
    "csmap_share_facts(uuid)",
    "csmap_share_contexts(uuid)",
    "csmap_share_vehicle_marks(uuid)",
)

#: Lattice resolutions a share of each tier may be published at (its floor and coarser).
SHARE_RESOLUTIONS = {"B": (8, 7), "C": (7,)}


def _force_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY owner_all ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def _backfill_share_cells() -> None:
    """Existing shares' cells at the coarser resolutions their tier may be published at: the
    parents' set would be wrong (a parent is not the cells of an area), so the cells are
    recomputed from the shares' areas and buffer rings, as the app does on create."""
    bind = op.get_bind()
    shares = bind.execute(sa.text("SELECT id, tier, resolution, buffer_rings FROM share")).all()
    for share_id, tier, resolution, rings in shares:
        for res in SHARE_RESOLUTIONS[tier]:
            if res == resolution:
                continue
            core = {
                int(c)
                for (c,) in bind.execute(
                    sa.text(
                        "SELECT DISTINCT ca.cell FROM cell_area ca JOIN share_area sa"
                        " ON sa.area_id = ca.area_id WHERE sa.share_id = :s AND ca.res = :r"
                    ),
                    {"s": share_id, "r": res},
                )
            }
            ring = {int(n) for c in core for n in h3.api.basic_int.grid_disk(c, rings)} - core
            lattice = {
                int(c)
                for (c,) in bind.execute(
                    sa.text("SELECT cell FROM cell WHERE res = :r AND cell = ANY(:c)"),
                    {"r": res, "c": sorted(ring)},
                )
            }
            bind.execute(
                sa.text(
                    "INSERT INTO share_cell (share_id, cell, res)"
                    " SELECT :s, unnest(CAST(:c AS bigint[])), :r ON CONFLICT DO NOTHING"
                ),
                {"s": share_id, "c": sorted(core | lattice), "r": res},
            )


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.create_table(
        "publication",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("tier", sa.String(1), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("profile", pg.JSONB, nullable=False),
        sa.Column("resolution", sa.SmallInteger, nullable=False),
        sa.Column("published_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("published_by", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("prev_sha256", sa.String(64)),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.CheckConstraint("tier IN ('B', 'C')", name="ck_publication_tier"),
        sa.CheckConstraint("period_end > period_start", name="ck_publication_period"),
        sa.UniqueConstraint("agency_id", "tier", "period_start", name="uq_publication_period"),
    )
    op.create_table(
        "publication_cell",
        sa.Column("publication_id", UUID, sa.ForeignKey("publication.id"), primary_key=True),
        sa.Column("cell", sa.BigInteger, primary_key=True),
        sa.Column("n", sa.Integer),
        sa.Column("band", sa.String(20)),
        sa.CheckConstraint("(n IS NULL) <> (band IS NULL)", name="ck_publication_cell_count"),
    )
    op.create_table(
        "publication_context",
        sa.Column("publication_id", UUID, sa.ForeignKey("publication.id"), primary_key=True),
        sa.Column("ref", UUID, primary_key=True),
        sa.Column("cell", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("precise", sa.Boolean, nullable=False),
    )
    op.create_table(
        "publication_mark",
        sa.Column("publication_id", UUID, sa.ForeignKey("publication.id"), primary_key=True),
        sa.Column("cell", sa.BigInteger, primary_key=True),
        sa.Column("mark", sa.String(16), primary_key=True),
    )
    op.add_column("share_cell", sa.Column("res", sa.SmallInteger))
    op.execute("UPDATE share_cell sc SET res = s.resolution FROM share s WHERE s.id = sc.share_id")
    op.alter_column("share_cell", "res", nullable=False)
    op.add_column("share", sa.Column("external_key", sa.String(400)))
    op.execute(
        "UPDATE share SET external_key = btrim(lower(regexp_replace(external_name,"
        " '[^[:alnum:]]+', ' ', 'g'))) || '|' WHERE external_name IS NOT NULL"
    )
    _backfill_share_cells()
    op.execute(FUNCTIONS)
    op.execute("DROP FUNCTION csmap_share_audience_profiles(uuid[])")
    for fn in LIVE_READ_SIGNATURES_0006:
        op.execute(f"DROP FUNCTION {fn}")
    for table in TABLES:
        _force_rls(table)
        op.execute(
            f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION csmap_publication_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION csmap_publication_append_only()"
        )
    # The source agency's readers may list their own publications (tier A: their own data);
    # everyone else reads through the functions above.
    op.execute(f'GRANT SELECT ON publication TO "{app}"')
    op.execute(
        f'CREATE POLICY own_read ON publication FOR SELECT TO "{app}"'
        f" USING (agency_id = csmap_agency_id() AND csmap_role() IN {READERS})"
    )
    for fn in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in APP_CALLS:
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def downgrade() -> None:
    app = context.config.attributes["app_role"]
    for table in reversed(TABLES):
        op.drop_table(table)
    for fn in reversed(SIGNATURES):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("DROP FUNCTION IF EXISTS csmap_publication_append_only()")
    op.execute(AUDIENCE_PROFILES_0007)
    op.execute(f'GRANT EXECUTE ON FUNCTION csmap_share_audience_profiles(uuid[]) TO "{app}"')
    op.drop_column("share", "external_key")
    op.execute(LIVE_READS_0006)
    for fn in LIVE_READ_SIGNATURES_0006:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')
    op.execute(
        "DELETE FROM share_cell sc USING share s WHERE s.id = sc.share_id"
        " AND sc.res <> s.resolution"
    )
    op.drop_column("share_cell", "res")
