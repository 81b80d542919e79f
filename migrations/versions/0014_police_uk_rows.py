"""police.uk rows without a Crime ID are de-duplicated on their content.

Anti-social behaviour rows carry no Crime ID, so re-importing a file used to load them again.
Each such row now has a ``content_key``: a digest of every published column (the point as
EWKB) and of its *occurrence*, the n-th identical row of its file. Two identical rows in one
file are two incidents police.uk snapped to the same place (both load); importing the same
file again gives the same keys (neither loads twice). The key is computed by one SQL function,
used by the import and by this migration's backfill, so the two can never disagree.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KEY_FUNCTION = """
CREATE FUNCTION csmap_police_row_key(
  p_month date, p_reported_by text, p_falls_within text, p_location text, p_lsoa_code text,
  p_lsoa_name text, p_crime_type text, p_outcome text, p_context text, p_geom geometry,
  p_occurrence bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT encode(sha256(convert_to(concat_ws(',',
    quote_nullable(p_month), quote_nullable(p_reported_by), quote_nullable(p_falls_within),
    quote_nullable(p_location), quote_nullable(p_lsoa_code), quote_nullable(p_lsoa_name),
    quote_nullable(p_crime_type), quote_nullable(p_outcome), quote_nullable(p_context),
    quote_nullable(encode(ST_AsEWKB(p_geom), 'hex')), p_occurrence), 'UTF8')), 'hex')
$$
"""

BACKFILL = """
UPDATE reference_crime r SET content_key = k.key
FROM (
  SELECT id, csmap_police_row_key(month, reported_by, falls_within, location, lsoa_code,
           lsoa_name, crime_type, outcome, context, geom,
           row_number() OVER (PARTITION BY month, reported_by, falls_within, location,
             lsoa_code, lsoa_name, crime_type, outcome, context, geom ORDER BY id)) AS key
  FROM reference_crime WHERE crime_id IS NULL OR crime_id = ''
) k
WHERE r.id = k.id
"""


def upgrade() -> None:
    op.execute("ALTER TABLE reference_crime ADD COLUMN content_key text")
    op.execute(KEY_FUNCTION)
    op.execute(BACKFILL)
    op.execute(
        "CREATE UNIQUE INDEX uq_reference_crime_content ON reference_crime (content_key)"
        " WHERE content_key IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_reference_crime_content")
    op.execute("DROP FUNCTION csmap_police_row_key")
    op.execute("ALTER TABLE reference_crime DROP COLUMN content_key")
