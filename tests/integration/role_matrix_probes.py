"""The role matrix's SQL probes: for each policy rule, SQL that answers "may this context do
it to the target agency's object?" as a boolean, run under the app role
(tests/integration/test_role_matrix.py). Writes run inside a transaction that is rolled
back."""

from __future__ import annotations

_SHARE_UPDATE = (
    "WITH u AS (UPDATE share SET purpose = purpose WHERE id = %(share_id)s RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM u)"
)
# The gate of every ledger read (csmap_share_publications and friends).
_SHARED_FACTS = "SELECT csmap_share_readable(%(share_id)s)"
_PACK_UPDATE = (
    "WITH u AS (UPDATE briefing_pack SET {} WHERE id = %(pack_id)s RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM u)"
)

#: (resource, action) -> the probe.
PROBES: dict[tuple[str, str], str] = {
    (
        "observation",
        "read",
    ): "SELECT EXISTS (SELECT 1 FROM observation WHERE id = %(observation_id)s)",
    ("context", "read"): "SELECT EXISTS (SELECT 1 FROM context WHERE id = %(context_id)s)",
    ("vehicle", "read"): "SELECT EXISTS (SELECT 1 FROM vehicle WHERE id = %(vehicle_id)s)",
    ("observation", "create"): "WITH i AS (INSERT INTO observation (agency_id, occurred_at, geom,"
    " category, cell_r7, cell_r8, cell_r9) VALUES (%(agency_id)s, now(),"
    " ST_SetSRID(ST_Point(1.2, 54.6), 4326), 'weapon_found', 1, 1, 1) RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM i)",
    ("observation", "update"): "WITH u AS (UPDATE observation SET version = version"
    " WHERE id = %(observation_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("observation", "delete"): "WITH u AS (UPDATE observation SET deleted_reason = 'x'"
    " WHERE id = %(observation_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("observation", "moderate"): "SELECT EXISTS (SELECT 1 FROM note_history"
    " WHERE agency_id = %(agency_id)s AND note = 'probe')",
    ("context", "create"): "WITH i AS (INSERT INTO context (agency_id, kind, name, geom)"
    " VALUES (%(agency_id)s, 'hotspot', 'probe', ST_SetSRID(ST_Point(1.2, 54.6), 4326))"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    ("context", "update"): "WITH u AS (UPDATE context SET version = version"
    " WHERE id = %(context_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("context", "delete"): "WITH u AS (UPDATE context SET deleted_reason = 'x'"
    " WHERE id = %(context_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("vehicle", "create"): "WITH i AS (INSERT INTO vehicle (agency_id, registration_mark,"
    " registration_normalised, mark_hmac) VALUES (%(agency_id)s, 'X', 'X', '\\x00')"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    ("user", "read"): "SELECT EXISTS (SELECT 1 FROM app_user WHERE id = %(user_id)s)",
    ("user", "manage"): "WITH u AS (UPDATE app_user SET updated_at = updated_at"
    " WHERE id = %(user_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("agency", "manage"): "WITH u AS (UPDATE agency SET name = name WHERE id = %(agency_id)s"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("panel", "manage"): "WITH u AS (UPDATE panel SET name = name WHERE id = %(panel_id)s"
    " RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("boundary_set", "manage"): "WITH u AS (UPDATE boundary_set SET name = name"
    " WHERE slug = %(slug)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    ("audit", "read"): "SELECT EXISTS (SELECT 1 FROM audit_log"
    " WHERE subject_agency_id = %(agency_id)s AND action = 'matrix.probe')",
    ("reference", "read"): "SELECT EXISTS (SELECT 1 FROM agency WHERE id = %(agency_id)s)",
    ("map", "view"): "SELECT EXISTS (SELECT 1 FROM boundary_set)",
    ("layer", "read"): "SELECT EXISTS (SELECT 1 FROM cell_month WHERE agency_id = %(agency_id)s)",
    ("share", "read"): "SELECT EXISTS (SELECT 1 FROM share WHERE id = %(share_id)s)",
    ("share", "create"): "WITH i AS (INSERT INTO share (from_agency_id, tier, profile,"
    " resolution, recipient_kind, external_name, layers, period_from, purpose, lawful_basis,"
    " agreement_ref, expires_at, status, created_by) VALUES (%(agency_id)s, 'B', '{}', 8,"
    " 'external', 'x', '{observations}', '2024-01-01', 'probe', 'x', 'x', now(), 'pending',"
    " csmap_user_id()) RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    ("share", "approve"): _SHARE_UPDATE,
    ("share", "revoke"): _SHARE_UPDATE,
    ("shared_layer", "read"): _SHARED_FACTS,
    ("shared_layer", "export"): _SHARED_FACTS,
    ("pack", "read"): "SELECT EXISTS (SELECT 1 FROM briefing_pack WHERE id = %(pack_id)s)",
    # On the target agency's tier B share, which has no pack (share_id is unique).
    ("pack", "create"): "WITH i AS (INSERT INTO briefing_pack (share_id, agency_id,"
    " recipient_name, title, marking, signs, how_to_report, review_on, status, created_by)"
    " VALUES (%(share_id)s, %(agency_id)s, 'x', 'x', 'OFFICIAL', 'x', 'x', current_date + 9,"
    " 'pending', csmap_user_id()) RETURNING 1) SELECT EXISTS (SELECT 1 FROM i)",
    # Any change but a withdrawal is the approvers' alone.
    ("pack", "approve"): _PACK_UPDATE.format("decided_at = decided_at"),
    ("pack", "withdraw"): _PACK_UPDATE.format(
        "status = 'withdrawn', withdrawn_at = now(), withdrawn_reason = 'probe'"
    ),
    ("pack_text", "edit"): "WITH u AS (UPDATE briefing_text SET updated_at = updated_at"
    " WHERE agency_id = %(agency_id)s RETURNING 1) SELECT EXISTS (SELECT 1 FROM u)",
    # Everyone keeps (and may end) their own sessions: a sign-in writes one as the user.
    ("session", "manage"): "WITH i AS (INSERT INTO user_session (user_id, agency_id,"
    " token_sha256, session_epoch) VALUES (csmap_user_id(), csmap_agency_id(),"
    " md5(random()::text) || md5(random()::text), 1) RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM i)",
    # Everyone makes (and revokes) their own access tokens.
    ("token", "manage"): "WITH i AS (INSERT INTO access_token (user_id, agency_id, name,"
    " token_sha256, expires_at) VALUES (csmap_user_id(), csmap_agency_id(), 'probe',"
    " md5(random()::text) || md5(random()::text), now() + interval '1 day') RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM i)",
    # The OGC API reads what the map reads: the boundary sets are everyone's.
    ("ogc", "read"): "SELECT EXISTS (SELECT 1 FROM boundary_set)",
}

#: Resources owned by an agency: their probe asks about the target agency's object. The
#: others (the directory, reference data, the map) follow the same rule for every agency.
AGENCY_OWNED = {
    "observation",
    "context",
    "vehicle",
    "user",
    "audit",
    "layer",
    "share",
    "shared_layer",
    "pack",
    "pack_text",
}
