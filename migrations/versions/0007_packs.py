"""Briefing packs: a tier C share plus what the pack says, its approval, and the checked output.

- ``briefing_pack``: one per tier C share (``share_id`` unique). The source agency (RLS), the
  title, marking, "signs to look for" and "how to report" texts, the public routes and hubs
  drawn on it, issue and review dates, status (pending → approved or rejected; withdrawn),
  who made, decided and withdrew it, and the rendered PDF and offline HTML with their
  SHA-256 — stored only once the disclosure check and the self-inspection have passed.
- ``briefing_text``: an agency's editable default texts, per area or (``area_id`` NULL) for
  the whole agency.

Trainers make packs, so a trainer now may create TIER C shares (only), see its own agency's
tier C shares and read their redacted facts (the preview), and revoke them (withdrawing a
pack). Approval stays with analysts and panel chairs, never the creator.
``csmap_share_audience_profiles`` tells a share's creator which profiles an audience already
receives from the agency without letting it read every share of the agency.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)
# Frozen copies of 0006's role lists (migrations never import the app's vocabulary).
READERS = "('practitioner','analyst','panel_chair','agency_admin')"
CREATORS = "('analyst','agency_admin')"
APPROVERS = "('analyst','panel_chair','agency_admin')"
PACK_READERS = "('trainer','analyst','panel_chair','agency_admin')"
PACK_MAKERS = "('trainer','analyst')"
PACK_APPROVERS = "('analyst','panel_chair')"
OWN_SHARE = "from_agency_id = csmap_agency_id()"
TRAINER_TIER_C = "(csmap_role() = 'trainer' AND s.tier = 'C')"

READABLE_0006 = f"""
CREATE OR REPLACE FUNCTION csmap_share_readable(p_share uuid) RETURNS boolean
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
"""
VISIBLE_0006 = f"""
CREATE OR REPLACE FUNCTION csmap_share_visible(p_share uuid) RETURNS boolean
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
"""

# As 0006, plus: a trainer of the source agency previews its own agency's tier C shares.
READABLE_0007 = f"""
CREATE OR REPLACE FUNCTION csmap_share_readable(p_share uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM share s WHERE s.id = p_share AND (
      (s.from_agency_id = csmap_agency_id()
       AND (csmap_role() IN {READERS} OR {TRAINER_TIER_C}))
      OR (s.status = 'active' AND s.revoked_at IS NULL AND s.expires_at > now() AND (
        (csmap_role() IN {READERS} AND (
          EXISTS (SELECT 1 FROM share_recipient r
                  WHERE r.share_id = s.id AND r.agency_id = csmap_agency_id())
          OR EXISTS (SELECT 1 FROM panel_member m
                     WHERE m.panel_id = s.panel_id AND m.agency_id = csmap_agency_id())))
        OR (s.recipient_kind = 'external'
            AND current_setting('csmap.link_share', true) = s.id::text)))))
$$;
"""
VISIBLE_0007 = f"""
CREATE OR REPLACE FUNCTION csmap_share_visible(p_share uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM share s WHERE s.id = p_share AND (
      (csmap_role() IN {READERS} AND (
        s.from_agency_id = csmap_agency_id()
        OR EXISTS (SELECT 1 FROM share_recipient r
                   WHERE r.share_id = s.id AND r.agency_id = csmap_agency_id())
        OR EXISTS (SELECT 1 FROM panel_member m
                   WHERE m.panel_id = s.panel_id AND m.agency_id = csmap_agency_id())))
      OR (s.from_agency_id = csmap_agency_id() AND {TRAINER_TIER_C})))
  OR (current_setting('csmap.link_share', true) = p_share::text)
$$;
"""

NEW_FUNCTIONS = f"""
-- The live shares of the caller's agency that reach any of the given agencies (as recipients
-- or as members of the recipient panel), with their tier and frozen profile: what a creator
-- needs to give one audience one profile, and nothing else about those shares.
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

-- Whether the caller reads a pack as its recipient: a trainer, analyst, panel chair or agency
-- admin of a recipient agency of the pack's share. (The share's own visibility is limited
-- to the practitioner-to-admin roles; a bus company's trainer is the pack's main reader.)
CREATE FUNCTION csmap_pack_addressed(p_share uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT csmap_role() IN {PACK_READERS} AND EXISTS (
    SELECT 1 FROM share_recipient r
    WHERE r.share_id = p_share AND r.agency_id = csmap_agency_id())
$$;
"""
NEW_SIGNATURES = (
    "csmap_share_audience_profiles(uuid[])",
    "csmap_pack_addressed(uuid)",
)


def _force_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY owner_all ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def _share_policies(app: str, trainer: bool) -> None:
    """The share table's SELECT and INSERT policies: 0006's, or with the trainer's tier C."""
    own = OWN_SHARE
    see_own = f"({own} AND csmap_role() IN {READERS})"
    create_roles = f"csmap_role() IN {CREATORS}"
    if trainer:
        see_own = f"({own} AND (csmap_role() IN {READERS} OR (csmap_role() = 'trainer'"
        see_own += " AND tier = 'C')))"
        create_roles = f"({create_roles} OR (csmap_role() = 'trainer' AND tier = 'C'))"
    op.execute("DROP POLICY IF EXISTS visible ON share")
    op.execute("DROP POLICY IF EXISTS own_create ON share")
    op.execute(
        f'CREATE POLICY visible ON share FOR SELECT TO "{app}" USING ('
        f"{see_own} OR csmap_share_addressed(id, panel_id)"
        " OR current_setting('csmap.link_share', true) = id::text)"
    )
    op.execute(
        f'CREATE POLICY own_create ON share FOR INSERT TO "{app}" WITH CHECK ({own}'
        f" AND {create_roles} AND created_by = csmap_user_id())"
    )


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.create_table(
        "briefing_pack",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("share_id", UUID, sa.ForeignKey("share.id"), nullable=False, unique=True),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("marking", sa.String(60), nullable=False),
        sa.Column("signs", sa.Text, nullable=False),
        sa.Column("how_to_report", sa.Text, nullable=False),
        sa.Column("route_ids", pg.ARRAY(UUID), nullable=False, server_default="{}"),
        sa.Column("hub_ids", pg.ARRAY(UUID), nullable=False, server_default="{}"),
        sa.Column("issued_on", sa.Date),
        sa.Column("review_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("decided_by", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("decided_at", TS),
        sa.Column("decision_note", sa.Text),
        sa.Column("withdrawn_by", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("withdrawn_at", TS),
        sa.Column("withdrawn_reason", sa.Text),
        sa.Column("pdf", sa.LargeBinary),
        sa.Column("html", sa.Text),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("html_sha256", sa.String(64)),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="ck_pack_status"
        ),
        # A second person decides, and an approved pack exists only with its checked output.
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by <> created_by", name="ck_pack_second_person"
        ),
        sa.CheckConstraint(
            "status <> 'approved' OR (decided_by IS NOT NULL AND issued_on IS NOT NULL"
            " AND pdf IS NOT NULL AND html IS NOT NULL AND pdf_sha256 IS NOT NULL"
            " AND html_sha256 IS NOT NULL)",
            name="ck_pack_approved_output",
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR decision_note IS NOT NULL", name="ck_pack_rejected_note"
        ),
        sa.CheckConstraint(
            "status <> 'withdrawn' OR (withdrawn_at IS NOT NULL AND withdrawn_reason IS NOT NULL)",
            name="ck_pack_withdrawn",
        ),
    )
    op.create_index("ix_briefing_pack_agency", "briefing_pack", ["agency_id"])
    op.create_table(
        "briefing_text",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("area_id", UUID, sa.ForeignKey("area.id")),
        sa.Column("signs", sa.Text, nullable=False),
        sa.Column("how_to_report", sa.Text, nullable=False),
        sa.Column("updated_by", UUID, sa.ForeignKey("app_user.id")),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        # One agency default (area NULL) and one text per area.
        sa.UniqueConstraint(
            "agency_id", "area_id", name="uq_briefing_text_area", postgresql_nulls_not_distinct=True
        ),
    )
    op.execute(NEW_FUNCTIONS)
    op.execute(READABLE_0007)
    op.execute(VISIBLE_0007)

    for table in ("briefing_pack", "briefing_text"):
        _force_rls(table)
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON {table} TO "{app}"')
    own = "agency_id = csmap_agency_id()"
    op.execute(
        f'CREATE POLICY own_read ON briefing_pack FOR SELECT TO "{app}"'
        f" USING ({own} AND csmap_role() IN {PACK_READERS})"
    )
    # Recipients see a pack once it has been approved (and still once withdrawn, to be told
    # so); the bearer of a verified external link likewise.
    op.execute(
        f'CREATE POLICY recipient_read ON briefing_pack FOR SELECT TO "{app}"'
        " USING (status IN ('approved', 'withdrawn') AND (csmap_pack_addressed(share_id)"
        " OR current_setting('csmap.link_share', true) = share_id::text))"
    )
    op.execute(
        f'CREATE POLICY own_create ON briefing_pack FOR INSERT TO "{app}" WITH CHECK ({own}'
        f" AND csmap_role() IN {PACK_MAKERS} AND created_by = csmap_user_id()"
        " AND status = 'pending')"
    )
    # Approvers decide (any change); the pack's other readers of the source agency may only
    # withdraw it: whatever they change, the row must end up withdrawn.
    op.execute(
        f'CREATE POLICY own_decide ON briefing_pack FOR UPDATE TO "{app}"'
        f" USING ({own} AND csmap_role() IN {PACK_APPROVERS})"
        f" WITH CHECK ({own} AND csmap_role() IN {PACK_APPROVERS})"
    )
    op.execute(
        f'CREATE POLICY own_withdraw ON briefing_pack FOR UPDATE TO "{app}"'
        f" USING ({own} AND csmap_role() IN {PACK_READERS})"
        f" WITH CHECK ({own} AND csmap_role() IN {PACK_READERS} AND status = 'withdrawn')"
    )
    op.execute(
        f'CREATE POLICY own_read ON briefing_text FOR SELECT TO "{app}"'
        f" USING ({own} AND csmap_role() IN {PACK_READERS})"
    )
    op.execute(
        f'CREATE POLICY own_insert ON briefing_text FOR INSERT TO "{app}"'
        f" WITH CHECK ({own} AND csmap_role() IN {PACK_MAKERS})"
    )
    op.execute(
        f'CREATE POLICY own_update ON briefing_text FOR UPDATE TO "{app}"'
        f" USING ({own} AND csmap_role() IN {PACK_MAKERS})"
        f" WITH CHECK ({own} AND csmap_role() IN {PACK_MAKERS})"
    )

    # Shares: a trainer creates and sees tier C shares of its own agency, and may revoke the
    # share of a pack (withdrawing the pack) — an update that must leave the share revoked.
    _share_policies(app, trainer=True)
    op.execute(
        f'CREATE POLICY trainer_revoke ON share FOR UPDATE TO "{app}"'
        f" USING ({OWN_SHARE} AND csmap_role() = 'trainer' AND tier = 'C'"
        " AND EXISTS (SELECT 1 FROM briefing_pack p WHERE p.share_id = share.id))"
        f" WITH CHECK ({OWN_SHARE} AND csmap_role() = 'trainer' AND tier = 'C'"
        " AND revoked_at IS NOT NULL)"
    )
    for fn in NEW_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def downgrade() -> None:
    app = context.config.attributes["app_role"]
    op.execute("DROP POLICY IF EXISTS trainer_revoke ON share")
    _share_policies(app, trainer=False)
    op.execute(READABLE_0006)
    op.execute(VISIBLE_0006)
    op.drop_table("briefing_text")
    op.drop_table("briefing_pack")  # its policies call csmap_pack_addressed
    for fn in reversed(NEW_SIGNATURES):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
