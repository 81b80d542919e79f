"""One live vehicle per registration mark per agency.

Creating a vehicle used to read ("has this agency the mark?") and then insert, so concurrent
creates of a new mark could both insert: the agency then held two records of one vehicle, and
every later create of that mark failed for good (two rows where one was expected). This
revision merges such duplicates and makes them impossible:

- per (agency, mark HMAC), the oldest live record is kept; every sighting, match query and
  match notice of the others moves to it, and its missing make, model or colour is taken
  from the others (oldest first);
- the others are not removed: each is soft-deleted with a reason naming the record it was
  merged into, so its version history stays where it was; both sides gain a ``merged`` version;
- a unique index on (agency_id, mark_hmac) over live rows, which the app's upsert relies on.

The downgrade drops the index only: merged records stay merged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "uq_vehicle_agency_mark"

MERGE = """
CREATE TEMP TABLE vehicle_merge AS
SELECT v.id AS loser, k.keeper
FROM vehicle v
JOIN (
  SELECT DISTINCT ON (agency_id, mark_hmac) agency_id, mark_hmac, id AS keeper
  FROM vehicle WHERE deleted_at IS NULL
  ORDER BY agency_id, mark_hmac, created_at, id
) k ON k.agency_id = v.agency_id AND k.mark_hmac = v.mark_hmac
WHERE v.deleted_at IS NULL AND v.id <> k.keeper;

UPDATE observation o SET vehicle_id = m.keeper
FROM vehicle_merge m WHERE o.vehicle_id = m.loser;
UPDATE vehicle_match_query q SET vehicle_id = m.keeper
FROM vehicle_merge m WHERE q.vehicle_id = m.loser;
UPDATE vehicle_match_notice n SET vehicle_id = m.keeper
FROM vehicle_merge m WHERE n.vehicle_id = m.loser;

UPDATE vehicle k SET
  make = coalesce(k.make, f.make),
  model = coalesce(k.model, f.model),
  colour = coalesce(k.colour, f.colour),
  version = k.version + 1,
  updated_at = now()
FROM (
  SELECT m.keeper,
         (array_agg(v.make ORDER BY v.created_at, v.id) FILTER (WHERE v.make IS NOT NULL))[1]
           AS make,
         (array_agg(v.model ORDER BY v.created_at, v.id) FILTER (WHERE v.model IS NOT NULL))[1]
           AS model,
         (array_agg(v.colour ORDER BY v.created_at, v.id) FILTER (WHERE v.colour IS NOT NULL))[1]
           AS colour
  FROM vehicle_merge m JOIN vehicle v ON v.id = m.loser
  GROUP BY m.keeper
) f
WHERE k.id = f.keeper;

UPDATE vehicle v SET
  deleted_at = now(),
  deleted_reason = 'merged into ' || m.keeper || ' (one record per registration mark)',
  version = v.version + 1,
  updated_at = now()
FROM vehicle_merge m WHERE v.id = m.loser;

INSERT INTO record_version (object_type, object_id, agency_id, version, action, changed_fields)
SELECT 'vehicle', v.id, v.agency_id, v.version, 'merged', '{}'::text[]
FROM vehicle v
WHERE v.id IN (SELECT loser FROM vehicle_merge UNION SELECT keeper FROM vehicle_merge);

DROP TABLE vehicle_merge;
"""


def upgrade() -> None:
    op.execute(MERGE)
    op.execute(
        f"CREATE UNIQUE INDEX {INDEX} ON vehicle (agency_id, mark_hmac) WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
