"""MACE and LDSM meetings: referrals of places, their life cycle, Four-P actions.

- ``panel_area``: the panel's area, as areas of any boundary set (system admins set it).
- ``meeting``: a panel's meeting (date, kind, chair, the agenda the chair edits, open or
  closed). Closed is read-only: no policy lets anyone update a closed meeting.
- ``meeting_attendance``: per member agency, attended / sent apologies / absent, and who.
- ``meeting_decision``: decisions and minutes, append-only; a correction is a new row that
  names the one it corrects (with a reason), so the original is always kept.
- ``referral``: a member agency bringing one of its contexts to a panel — a recorded
  disclosure (summary, purpose, lawful basis, who, when) holding only what tier B shows of
  the place: its public name and true position if it is a public place, else its kind and
  the centre of its cell. The context's own row stays invisible to other agencies.
- ``referral_stage``: the life cycle history (referred → assessment → weighting → plan →
  review → closed): who, when, why, the weighting level, the next review date. Append-only.
- ``panel_action``: a Four-P action agreed at a meeting (owner agency, optional named owner,
  due date, linked to a referral, a cell or an area; open / in progress / done / cancelled).
- ``action_update``: progress posted by the owner agency (append-only).

Access: every row is visible to the practitioners, analysts, panel chairs and agency admins
of the panel's member agencies, and to nobody else (a system admin reads none of it; no
context, no rows). Writes follow the policy table: the meeting's chair holds the meeting;
the owning agency refers its own contexts; the owning agency and panel chairs move a
referral through its stages; the owner agency (and panel chairs) update an action. The app
role has no UPDATE on the history tables and no DELETE anywhere but ``panel_area``.

``csmap_meeting_withheld`` (SECURITY DEFINER) gives the meeting pack's self-inspection the
strings that must never appear in it — the names of referred places that are not public,
and the notes, young people's references and marks recorded at them — which RLS rightly
hides from the chair. It answers only a member reader of the meeting's panel, and its
answer is compared, never shown. ``csmap_ldsm_summaries`` (SECURITY DEFINER) gives a MACE
panel's members counts — places under review, open and overdue actions by Four P — of each
LDSM panel whose area overlaps the MACE's, whose own records they may not read.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql as pg

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)
# Frozen copies of the vocabulary (migrations never import the app's).
READERS = "('practitioner','analyst','panel_chair','agency_admin')"
REFERRERS = "('analyst','panel_chair','agency_admin')"
STAGES = "('referred','assessment','weighting','plan','review','closed')"
WEIGHTINGS = "('low','medium','high')"
FOUR_P = "('prevent','prepare','pursue','protect')"
ACTION_STATUSES = "('open','in_progress','done','cancelled')"

FUNCTIONS = f"""
-- Whether the caller reads this panel's records: a reader role of a member agency.
CREATE FUNCTION csmap_panel_reader(p_panel uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT csmap_role() IN {READERS} AND EXISTS (
    SELECT 1 FROM panel_member m WHERE m.panel_id = p_panel AND m.agency_id = csmap_agency_id())
$$;

-- Whether the caller may move a referral through its stages: the owning agency's analysts,
-- panel chairs and admins, or a panel chair of a member agency.
CREATE FUNCTION csmap_referral_mover(p_agency uuid, p_panel uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT csmap_panel_reader(p_panel) AND (
    (p_agency = csmap_agency_id() AND csmap_role() IN {REFERRERS})
    OR csmap_role() = 'panel_chair')
$$;

-- Whether the caller may update an action and post progress on it: its owner agency's
-- readers, or a panel chair of a member agency.
CREATE FUNCTION csmap_action_updater(p_owner uuid, p_panel uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT csmap_panel_reader(p_panel) AND (
    p_owner = csmap_agency_id() OR csmap_role() = 'panel_chair')
$$;

-- What the meeting pack must never show, for its self-inspection only (see the docstring).
CREATE FUNCTION csmap_meeting_withheld(p_meeting uuid) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH m AS (SELECT panel_id FROM meeting WHERE id = p_meeting),
  allowed AS (SELECT 1 FROM m WHERE csmap_role() IN {READERS} AND EXISTS (
    SELECT 1 FROM panel_member pm WHERE pm.panel_id = m.panel_id
      AND pm.agency_id = csmap_agency_id())),
  ctx AS (SELECT c.id, c.name, c.public_place FROM referral r JOIN context c ON c.id = r.context_id
          WHERE r.panel_id = (SELECT panel_id FROM m) AND EXISTS (SELECT 1 FROM allowed))
  SELECT name FROM ctx WHERE NOT public_place
  UNION SELECT o.note FROM observation o JOIN ctx ON ctx.id = o.context_id WHERE o.note <> ''
  UNION SELECT unnest(o.young_person_refs) FROM observation o JOIN ctx ON ctx.id = o.context_id
  UNION SELECT v.registration_mark FROM observation o JOIN ctx ON ctx.id = o.context_id
        JOIN vehicle v ON v.id = o.vehicle_id
$$;

-- A MACE panel's view of the LDSM panels in its area: counts only (places under review; open
-- and overdue actions by Four P), for a member reader of the MACE panel.
CREATE FUNCTION csmap_ldsm_summaries(p_mace uuid, p_day date)
RETURNS TABLE (panel_id uuid, name text, places integer, four_p text, open integer,
               overdue integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH allowed AS (
    SELECT 1 WHERE csmap_role() IN {READERS}
      AND EXISTS (SELECT 1 FROM panel WHERE id = p_mace AND kind = 'mace')
      AND EXISTS (SELECT 1 FROM panel_member m WHERE m.panel_id = p_mace
                  AND m.agency_id = csmap_agency_id())),
  ldsm AS (
    SELECT p.id, p.name FROM panel p WHERE p.kind = 'ldsm' AND EXISTS (SELECT 1 FROM allowed)
      AND EXISTS (SELECT 1 FROM panel_area la JOIN area a ON a.id = la.area_id
                  CROSS JOIN panel_area ma JOIN area b ON b.id = ma.area_id
                  WHERE la.panel_id = p.id AND ma.panel_id = p_mace
                    AND ST_Intersects(a.geom, b.geom) AND NOT ST_Touches(a.geom, b.geom)))
  SELECT l.id, l.name::text,
    (SELECT count(*)::int FROM referral r WHERE r.panel_id = l.id AND r.stage <> 'closed'),
    fp.p,
    (SELECT count(*)::int FROM panel_action x WHERE x.panel_id = l.id AND x.four_p = fp.p
       AND x.status IN ('open', 'in_progress')),
    (SELECT count(*)::int FROM panel_action x WHERE x.panel_id = l.id AND x.four_p = fp.p
       AND x.status IN ('open', 'in_progress') AND x.due_on < p_day)
  FROM ldsm l CROSS JOIN (VALUES ('prevent', 1), ('prepare', 2), ('pursue', 3), ('protect', 4))
    AS fp(p, n)
  ORDER BY l.name, fp.n
$$;
"""
SIGNATURES = (
    "csmap_ldsm_summaries(uuid, date)",
    "csmap_meeting_withheld(uuid)",
    "csmap_action_updater(uuid, uuid)",
    "csmap_referral_mover(uuid, uuid)",
    "csmap_panel_reader(uuid)",
)
TABLES = (
    "panel_area",
    "meeting",
    "meeting_attendance",
    "meeting_decision",
    "referral",
    "referral_stage",
    "panel_action",
    "action_update",
)


def _force_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY owner_all ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def _policy(table: str, name: str, cmd: str, app: str, using: str = "", check: str = "") -> None:
    sql = f'CREATE POLICY {name} ON {table} FOR {cmd} TO "{app}"'
    if using:
        sql += f" USING ({using})"
    if check:
        sql += f" WITH CHECK ({check})"
    op.execute(sql)


def _tables() -> None:
    op.create_table(
        "panel_area",
        sa.Column(
            "panel_id", UUID, sa.ForeignKey("panel.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("area_id", UUID, sa.ForeignKey("area.id"), primary_key=True),
    )
    op.create_table(
        "meeting",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("panel_id", UUID, sa.ForeignKey("panel.id"), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("chair_id", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("chair_name", sa.String(200), nullable=False),
        sa.Column("chair_agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="open"),
        sa.Column("agenda", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("agenda_drafted_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('regular', 'extraordinary')", name="ck_meeting_kind"),
        sa.CheckConstraint(
            "(status = 'open' AND closed_at IS NULL) OR (status = 'closed' AND closed_at IS NOT"
            " NULL)",
            name="ck_meeting_status",
        ),
    )
    op.create_index("ix_meeting_panel", "meeting", ["panel_id", "held_on"])
    op.create_table(
        "meeting_attendance",
        sa.Column("meeting_id", UUID, sa.ForeignKey("meeting.id"), primary_key=True),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("people", sa.String(500), nullable=False, server_default=""),
        sa.Column("recorded_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("recorded_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "status IN ('attended', 'apologies', 'absent')", name="ck_attendance_status"
        ),
    )
    op.create_table(
        "meeting_decision",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("meeting_id", UUID, sa.ForeignKey("meeting.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("corrects_id", UUID, sa.ForeignKey("meeting_decision.id")),
        sa.Column("correction_reason", sa.Text),
        sa.Column("recorded_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("recorded_by_name", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('decision', 'minute')", name="ck_decision_kind"),
        sa.CheckConstraint(
            "(corrects_id IS NULL) = (correction_reason IS NULL)", name="ck_decision_correction"
        ),
    )
    op.create_index("ix_meeting_decision_meeting", "meeting_decision", ["meeting_id"])
    op.create_table(
        "referral",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("panel_id", UUID, sa.ForeignKey("panel.id"), nullable=False),
        sa.Column("context_id", UUID, sa.ForeignKey("context.id"), nullable=False),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("lawful_basis", sa.Text, nullable=False),
        sa.Column("referred_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("referred_by_name", sa.String(200), nullable=False),
        sa.Column("referred_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("precise", sa.Boolean, nullable=False),
        sa.Column("cell", sa.BigInteger, nullable=False),
        sa.Column("res", sa.SmallInteger, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("stage", sa.String(12), nullable=False, server_default="referred"),
        sa.Column("weighting", sa.String(8)),
        sa.Column("next_review_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"stage IN {STAGES}", name="ck_referral_stage"),
        sa.CheckConstraint(f"weighting IS NULL OR weighting IN {WEIGHTINGS}", name="ck_weighting"),
    )
    op.create_index("ix_referral_panel", "referral", ["panel_id"])
    # A place is under review by a panel once at a time.
    op.create_index(
        "uq_referral_open",
        "referral",
        ["panel_id", "context_id"],
        unique=True,
        postgresql_where=sa.text("stage <> 'closed'"),
    )
    op.create_table(
        "referral_stage",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("referral_id", UUID, sa.ForeignKey("referral.id"), nullable=False),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("weighting", sa.String(8)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("next_review_on", sa.Date),
        sa.Column("changed_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("changed_by_name", sa.String(200), nullable=False),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("changed_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"stage IN {STAGES}", name="ck_referral_stage_stage"),
    )
    op.create_index("ix_referral_stage_referral", "referral_stage", ["referral_id"])
    op.create_table(
        "panel_action",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("panel_id", UUID, sa.ForeignKey("panel.id"), nullable=False),
        sa.Column("meeting_id", UUID, sa.ForeignKey("meeting.id"), nullable=False),
        sa.Column("four_p", sa.String(8), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner_agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("owner_name", sa.String(200)),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("referral_id", UUID, sa.ForeignKey("referral.id")),
        sa.Column("cell", sa.BigInteger),
        sa.Column("area_id", UUID, sa.ForeignKey("area.id")),
        sa.Column("status", sa.String(12), nullable=False, server_default="open"),
        sa.Column("closed_on", sa.Date),
        sa.Column("created_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"four_p IN {FOUR_P}", name="ck_action_four_p"),
        sa.CheckConstraint(f"status IN {ACTION_STATUSES}", name="ck_action_status"),
        sa.CheckConstraint(
            "num_nonnulls(referral_id, cell, area_id) = 1", name="ck_action_one_link"
        ),
        sa.CheckConstraint(
            "(status IN ('done', 'cancelled')) = (closed_on IS NOT NULL)", name="ck_action_closed"
        ),
    )
    op.create_index("ix_panel_action_panel", "panel_action", ["panel_id"])
    op.create_index("ix_panel_action_owner", "panel_action", ["owner_agency_id"])
    op.create_table(
        "action_update",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("action_id", UUID, sa.ForeignKey("panel_action.id"), nullable=False),
        sa.Column("agency_id", UUID, sa.ForeignKey("agency.id"), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("status", sa.String(12)),
        sa.Column("posted_by", UUID, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("posted_by_name", sa.String(200), nullable=False),
        sa.Column("posted_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            f"status IS NULL OR status IN {ACTION_STATUSES}", name="ck_action_update_status"
        ),
    )
    op.create_index("ix_action_update_action", "action_update", ["action_id"])


def _rls(app: str) -> None:
    for table in TABLES:
        _force_rls(table)
    op.execute(f'GRANT SELECT, INSERT, DELETE ON panel_area TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON meeting, meeting_attendance, referral TO "{app}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON panel_action TO "{app}"')
    op.execute(
        f'GRANT SELECT, INSERT ON meeting_decision, referral_stage, action_update TO "{app}"'
    )

    sysadmin = "csmap_role() = 'system_admin'"
    _policy("panel_area", "read", "SELECT", app, using="csmap_user_id() IS NOT NULL")
    _policy("panel_area", "admin_insert", "INSERT", app, check=sysadmin)
    _policy("panel_area", "admin_delete", "DELETE", app, using=sysadmin)

    reader = "csmap_panel_reader(panel_id)"
    chairing = (
        f"{reader} AND csmap_role() = 'panel_chair' AND chair_id = csmap_user_id()"
        " AND chair_agency_id = csmap_agency_id()"
    )
    _policy("meeting", "member_read", "SELECT", app, using=reader)
    _policy("meeting", "chair_insert", "INSERT", app, check=f"{chairing} AND status = 'open'")
    # Only an open meeting can change, and only by its chair: closing is the last update.
    _policy(
        "meeting", "chair_update", "UPDATE", app, using=f"{chairing} AND status = 'open'",
        check=chairing,
    )  # fmt: skip

    visible_meeting = "EXISTS (SELECT 1 FROM meeting m WHERE m.id = meeting_id)"
    open_and_mine = (
        "EXISTS (SELECT 1 FROM meeting m WHERE m.id = meeting_id AND m.status = 'open'"
        " AND m.chair_id = csmap_user_id() AND csmap_role() = 'panel_chair')"
    )
    member_agency = (
        "EXISTS (SELECT 1 FROM meeting m JOIN panel_member pm ON pm.panel_id = m.panel_id"
        " WHERE m.id = meeting_id AND pm.agency_id = meeting_attendance.agency_id)"
    )
    _policy("meeting_attendance", "member_read", "SELECT", app, using=visible_meeting)
    _policy(
        "meeting_attendance", "chair_insert", "INSERT", app,
        check=f"{open_and_mine} AND {member_agency} AND recorded_by = csmap_user_id()",
    )  # fmt: skip
    _policy(
        "meeting_attendance", "chair_update", "UPDATE", app, using=open_and_mine,
        check=f"{open_and_mine} AND recorded_by = csmap_user_id()",
    )  # fmt: skip

    mine = (
        "EXISTS (SELECT 1 FROM meeting m WHERE m.id = meeting_id AND m.chair_id = csmap_user_id()"
        " AND csmap_role() = 'panel_chair')"
    )
    _policy("meeting_decision", "member_read", "SELECT", app, using=visible_meeting)
    # While open the chair records; once closed, only corrections (which keep the original).
    _policy(
        "meeting_decision", "chair_insert", "INSERT", app,
        check=f"recorded_by = csmap_user_id() AND ({open_and_mine}"
        f" OR ({mine} AND corrects_id IS NOT NULL))",
    )  # fmt: skip

    _policy("referral", "member_read", "SELECT", app, using=reader)
    _policy(
        "referral", "own_insert", "INSERT", app,
        check=f"{reader} AND agency_id = csmap_agency_id() AND csmap_role() IN {REFERRERS}"
        " AND referred_by = csmap_user_id() AND stage = 'referred' AND EXISTS (SELECT 1"
        " FROM context c WHERE c.id = context_id AND c.agency_id = csmap_agency_id())",
    )  # fmt: skip
    mover = "csmap_referral_mover(agency_id, panel_id)"
    _policy("referral", "mover_update", "UPDATE", app, using=mover, check=mover)
    _policy(
        "referral_stage", "member_read", "SELECT", app,
        using="EXISTS (SELECT 1 FROM referral r WHERE r.id = referral_id)",
    )  # fmt: skip
    _policy(
        "referral_stage", "mover_insert", "INSERT", app,
        check="changed_by = csmap_user_id() AND agency_id = csmap_agency_id() AND EXISTS ("
        "SELECT 1 FROM referral r WHERE r.id = referral_id"
        " AND csmap_referral_mover(r.agency_id, r.panel_id))",
    )  # fmt: skip

    _policy("panel_action", "member_read", "SELECT", app, using=reader)
    _policy(
        "panel_action", "chair_insert", "INSERT", app,
        check=f"created_by = csmap_user_id() AND {open_and_mine} AND EXISTS (SELECT 1 FROM"
        " meeting m WHERE m.id = meeting_id AND m.panel_id = panel_action.panel_id)"
        " AND EXISTS (SELECT 1 FROM panel_member pm WHERE pm.panel_id = panel_action.panel_id"
        " AND pm.agency_id = owner_agency_id)",
    )  # fmt: skip
    updater = "csmap_action_updater(owner_agency_id, panel_id)"
    _policy("panel_action", "updater_update", "UPDATE", app, using=updater, check=updater)
    _policy(
        "action_update", "member_read", "SELECT", app,
        using="EXISTS (SELECT 1 FROM panel_action a WHERE a.id = action_id)",
    )  # fmt: skip
    _policy(
        "action_update", "updater_insert", "INSERT", app,
        check="posted_by = csmap_user_id() AND agency_id = csmap_agency_id() AND EXISTS ("
        "SELECT 1 FROM panel_action a WHERE a.id = action_id"
        " AND csmap_action_updater(a.owner_agency_id, a.panel_id))",
    )  # fmt: skip


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    _tables()
    op.execute(FUNCTIONS)
    _rls(app)
    for fn in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{app}"')


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    for fn in SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
