"""Sharing: shares between agencies (tiers B and C), agency profiles, and the narrow functions
through which a share's recipients read the facts that the redaction module publishes.

- ``share``: from agency, recipients (agencies, a panel, or one named external recipient),
  tier and a frozen snapshot of the profile, the layers, fixed calendar periods, purpose,
  lawful basis, agreement reference, expiry, creator, approver, revocation, and the nonce of
  an external recipient's signed link.
- ``share_recipient`` / ``share_area``: the recipient agencies and the areas (from any
  boundary set) chosen; ``share_cell``: the whole lattice cells, at the profile's resolution,
  that the areas (plus any buffer rings) come to — fixed when the share is made, so a share
  is always a set of whole published cells and never a drawn shape.
- ``agency_profile``: an agency's tightened tier profile (the floors live in code).
- ``csmap_share_facts(share)`` and friends are SECURITY DEFINER: the recipients cannot read the
  source agency's records under RLS, and these return only what redaction needs — the res-9
  cell, the time and a one-way hash of each young person's reference — for a share that is
  active, unexpired, unrevoked and addressed to the caller. Everything else (suppression,
  rounding, the cells' outlines) happens in ``spatial.redaction``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)
READERS = "('practitioner','analyst','panel_chair','agency_admin')"
CREATORS = "('analyst','agency_admin')"
APPROVERS = "('analyst','panel_chair','agency_admin')"

FUNCTIONS = f"""
-- Whether the caller may read a share's redacted output: a reader of the source agency
-- (preview), a reader of a recipient agency or of an agency on the recipient panel, or the
-- bearer of a verified external link (the app sets csmap.link_share after checking the
-- signature). Only active, unrevoked, unexpired shares are readable by recipients.
CREATE FUNCTION csmap_share_readable(p_share uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM share s WHERE s.id = p_share AND (
      (s.from_agency_id = csmap_agency_id() AND csmap_role() IN {READERS})
      OR (s.status = 'active' AND s.revoked_at IS NULL AND s.expires_at > now() AND (
        (csmap_role() IN {READERS} AND (
          EXISTS (SELECT 1 FROM share_recipient r
                  WHERE r.share_id = s.id AND r.agency_id = csmap_agency_id())
          OR EXISTS (SELECT 1 FROM panel_member m
                     WHERE m.panel_id = s.panel_id AND m.agency_id = csmap_agency_id())))
        OR (s.recipient_kind = 'external'
            AND current_setting('csmap.link_share', true) = s.id::text)))))
$$;

-- Whether the caller's agency is addressed by a share: a recipient agency, or on its panel.
CREATE FUNCTION csmap_share_addressed(p_share uuid, p_panel uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT csmap_role() IN {READERS} AND (
    EXISTS (SELECT 1 FROM share_recipient r
            WHERE r.share_id = p_share AND r.agency_id = csmap_agency_id())
    OR EXISTS (SELECT 1 FROM panel_member m
               WHERE m.panel_id = p_panel AND m.agency_id = csmap_agency_id()))
$$;

-- Whether the caller may see that a share exists (its terms), even once revoked or expired.
CREATE FUNCTION csmap_share_visible(p_share uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM share s WHERE s.id = p_share AND csmap_role() IN {READERS} AND (
      s.from_agency_id = csmap_agency_id()
      OR EXISTS (SELECT 1 FROM share_recipient r
                 WHERE r.share_id = s.id AND r.agency_id = csmap_agency_id())
      OR EXISTS (SELECT 1 FROM panel_member m
                 WHERE m.panel_id = s.panel_id AND m.agency_id = csmap_agency_id())))
  OR (current_setting('csmap.link_share', true) = p_share::text)
$$;

-- The source agency's name, for whoever may see the share (an external link has no access
-- to the agency directory).
CREATE FUNCTION csmap_share_source_name(p_share uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT a.name::text FROM share s JOIN agency a ON a.id = s.from_agency_id
  WHERE s.id = p_share AND csmap_share_visible(p_share)
$$;

-- The facts of a share: the source agency's live observations in the share's cells and
-- periods. Young people's references leave as salted one-way hashes (salted per share, so
-- two shares cannot be joined on them): enough to count distinct people, nothing to read.
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

-- The source agency's contexts whose representative point lies in one of the share's cells:
-- kind, name, the public-place flag and that point. Redaction decides what may be shown.
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

-- Registration marks of the source agency's vehicles seen in the share's cells and periods;
-- the app masks them (spatial.redaction.mask_vehicle) before anything leaves.
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
FUNCTION_SIGNATURES = (
    "csmap_share_addressed(uuid, uuid)",
    "csmap_share_readable(uuid)",
    "csmap_share_visible(uuid)",
    "csmap_share_source_name(uuid)",
    "csmap_share_facts(uuid)",
    "csmap_share_contexts(uuid)",
    "csmap_share_vehicle_marks(uuid)",
)


def _force_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY owner_all ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.create_table(
        "share",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("from_agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("tier", sa.String(1), nullable=False),
        sa.Column("profile", pg.JSONB, nullable=False),
        sa.Column("resolution", sa.SmallInteger, nullable=False),
        sa.Column("recipient_kind", sa.String(16), nullable=False),
        sa.Column("panel_id", UUID, sa.ForeignKey("panel.id")),
        sa.Column("external_name", sa.String(200)),
        sa.Column("layers", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("buffer_rings", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("period_from", sa.Date, nullable=False),
        sa.Column("period_to", sa.Date),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("lawful_basis", sa.String(300), nullable=False),
        sa.Column("agreement_ref", sa.String(100), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("approved_by", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("approved_at", TS),
        sa.Column("decision_note", sa.Text),
        sa.Column("revoked_by", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_reason", sa.Text),
        sa.Column("link_nonce", sa.String(64)),
        sa.CheckConstraint("tier IN ('B', 'C')", name="ck_share_tier"),
        sa.CheckConstraint(
            "recipient_kind IN ('agencies', 'panel', 'external')", name="ck_share_recipient_kind"
        ),
        sa.CheckConstraint("status IN ('pending', 'active', 'rejected')", name="ck_share_status"),
        sa.CheckConstraint(
            "(recipient_kind = 'panel') = (panel_id IS NOT NULL)"
            " AND (recipient_kind = 'external') = (external_name IS NOT NULL)",
            name="ck_share_recipient",
        ),
        sa.CheckConstraint("resolution BETWEEN 0 AND 9", name="ck_share_resolution"),
        sa.CheckConstraint("buffer_rings BETWEEN 0 AND 2", name="ck_share_buffer"),
        sa.CheckConstraint("period_to IS NULL OR period_to > period_from", name="ck_share_periods"),
        # Tier C is public-facing: a second person must approve it (DESIGN §5).
        sa.CheckConstraint(
            "tier <> 'C' OR approved_by IS NULL OR approved_by <> created_by",
            name="ck_share_second_approver",
        ),
        sa.CheckConstraint(
            "status <> 'active' OR approved_by IS NOT NULL", name="ck_share_active_approved"
        ),
    )
    op.create_index("ix_share_from", "share", ["from_agency_id"])
    op.create_table(
        "share_recipient",
        sa.Column(
            "share_id", UUID, sa.ForeignKey("share.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), primary_key=True),
    )
    op.create_index("ix_share_recipient_agency", "share_recipient", ["agency_id"])
    op.create_table(
        "share_area",
        sa.Column(
            "share_id", UUID, sa.ForeignKey("share.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("area_id", UUID, sa.ForeignKey("area.id"), primary_key=True),
    )
    op.create_table(
        "share_cell",
        sa.Column(
            "share_id", UUID, sa.ForeignKey("share.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("cell", sa.BigInteger, primary_key=True),
    )
    op.create_table(
        "agency_profile",
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), primary_key=True),
        sa.Column("tier", sa.String(1), primary_key=True),
        sa.Column("settings", pg.JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("tier IN ('B', 'C')", name="ck_agency_profile_tier"),
    )
    op.execute(FUNCTIONS)

    for table in ("share", "share_recipient", "share_area", "share_cell", "agency_profile"):
        _force_rls(table)
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON share TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT ON share_recipient, share_area, share_cell TO "{app}"')
    op.execute(f'GRANT SELECT ON agency_profile TO "{app}"')
    own = "from_agency_id = csmap_agency_id()"
    # Written on the row's own columns (not by looking the share up again), so that a new
    # row passes it in its own INSERT ... RETURNING.
    op.execute(
        f'CREATE POLICY visible ON share FOR SELECT TO "{app}" USING ('
        f"({own} AND csmap_role() IN {READERS}) OR csmap_share_addressed(id, panel_id)"
        " OR current_setting('csmap.link_share', true) = id::text)"
    )
    op.execute(
        f'CREATE POLICY own_create ON share FOR INSERT TO "{app}" WITH CHECK ({own}'
        f" AND csmap_role() IN {CREATORS} AND created_by = csmap_user_id())"
    )
    # Approving and revoking are both updates by the source agency's approvers; the service
    # (and the second-approver check constraint) says which change is allowed when.
    op.execute(
        f'CREATE POLICY own_decide ON share FOR UPDATE TO "{app}"'
        f" USING ({own} AND csmap_role() IN {APPROVERS})"
        f" WITH CHECK ({own} AND csmap_role() IN {APPROVERS})"
    )
    for table in ("share_recipient", "share_area", "share_cell"):
        op.execute(
            f'CREATE POLICY visible ON {table} FOR SELECT TO "{app}"'
            " USING (csmap_share_visible(share_id))"
        )
        op.execute(
            f'CREATE POLICY own_create ON {table} FOR INSERT TO "{app}" WITH CHECK ('
            f"EXISTS (SELECT 1 FROM share s WHERE s.id = share_id AND s.{own}"
            f" AND s.created_by = csmap_user_id() AND s.status <> 'rejected'))"
        )
    op.execute(
        f'CREATE POLICY own_read ON agency_profile FOR SELECT TO "{app}"'
        " USING (agency_id = csmap_agency_id())"
    )
    for fn in FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def downgrade() -> None:
    # Tables first: their policies call the functions.
    for table in ("share_cell", "share_area", "share_recipient", "share", "agency_profile"):
        op.drop_table(table)
    for fn in reversed(FUNCTION_SIGNATURES):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
