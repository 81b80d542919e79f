"""SQLAlchemy models of the csmap schema.

The schema itself is owned by Alembic (``migrations/``); these classes describe it for the
application, and a test checks that autogenerate finds no difference between the two.

Conventions (DESIGN.md §4):
- public ids are UUIDs, never sequential;
- geometry is stored in WGS84 (EPSG:4326), metric work reprojects on the fly;
- agency-owned rows carry ``agency_id``, a ``version`` for optimistic locking and soft-delete
  columns (nothing acknowledged is lost);
- each observation stores its H3 cell keys at three resolutions at insert time, so trend
  layers and shares are a ``GROUP BY`` over cells, not a spatial join.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from spatial.vocabulary import AGENCY_KINDS, BOUNDARY_SET_KINDS, CONTEXT_KINDS, CONTEXT_STATUSES

SRID = 4326

agency_kind = Enum(*AGENCY_KINDS, name="agency_kind")
context_kind = Enum(*CONTEXT_KINDS, name="context_kind")
context_status = Enum(*CONTEXT_STATUSES, name="context_status")
boundary_set_kind = Enum(*BOUNDARY_SET_KINDS, name="boundary_set_kind")


class Base(DeclarativeBase):
    pass


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[uuid.UUID] = _uuid_pk()
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(agency_kind, nullable=False)
    #: Who to contact about this agency's records (e.g. for a vehicle reported by two).
    lead_contact: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = _created_at()


class BoundarySet(Base):
    """A named set of areas. A new generation of a set does not erase the old."""

    __tablename__ = "boundary_set"
    __table_args__ = (
        UniqueConstraint("slug", "generation"),
        Index("uq_boundary_set_map_default", "map_default", unique=True,
              postgresql_where=text("map_default")),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = _uuid_pk()
    slug: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(boundary_set_kind, nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_at: Mapped[datetime] = _created_at()
    #: The set the map shows first (revision 0013), chosen by a system admin.
    map_default: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Area(Base):
    __tablename__ = "area"
    __table_args__ = (UniqueConstraint("boundary_set_id", "code"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    boundary_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("boundary_set.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False
    )


class AgencyJurisdiction(Base):
    """An agency's jurisdiction: one or more areas from any boundary set."""

    __tablename__ = "agency_jurisdiction"

    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("area.id", ondelete="CASCADE"), primary_key=True
    )


class Category(Base):
    """Observation taxonomy; configurable, so held as data rather than an enum."""

    __tablename__ = "category"
    # Revision 0016: observation.category_key is hashtext(code); no two codes may share it.
    __table_args__ = (Index("uq_category_key", text("hashtext(code::text)"), unique=True),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    sort: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class _Versioned:
    """Optimistic locking and soft delete, shared by every agency-owned record."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_reason: Mapped[str | None] = mapped_column(Text)


class Context(_Versioned, Base):
    """A place or space of concern or protection."""

    __tablename__ = "context"

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agency.id"), nullable=False, index=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(context_kind, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=SRID, spatial_index=True), nullable=False
    )
    public_place: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    features: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    status: Mapped[str] = mapped_column(context_status, nullable=False, server_default="referred")
    last_confirmed: Mapped[date | None] = mapped_column(Date)
    operator: Mapped[str | None] = mapped_column(String(200))
    route_name: Mapped[str | None] = mapped_column(String(100))


class Vehicle(_Versioned, Base):
    """A vehicle of interest. The mark is seen in full only by the owning agency."""

    __tablename__ = "vehicle"
    # One live record per mark per agency (revision 0011): creating one is an upsert on it.
    __table_args__ = (
        Index(
            "uq_vehicle_agency_mark",
            "agency_id",
            "mark_hmac",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agency.id"), nullable=False, index=True
    )
    registration_mark: Mapped[str] = mapped_column(String(32), nullable=False)
    registration_normalised: Mapped[str] = mapped_column(String(32), nullable=False)
    # Keyed HMAC of the normalised mark: lets csmap say "also reported elsewhere" without
    # revealing the other agency's record.
    mark_hmac: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, index=True)
    make: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    colour: Mapped[str | None] = mapped_column(String(32))


class Observation(_Versioned, Base):
    """Something seen at a time and place. A sighting is an observation with a vehicle."""

    __tablename__ = "observation"
    __table_args__ = (
        CheckConstraint("source_grade IN ('A','B','C','D','E')", name="source_grade_valid"),
        CheckConstraint("info_grade BETWEEN 1 AND 5", name="info_grade_valid"),
        Index("ix_observation_agency_time", "agency_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True), nullable=False
    )
    category: Mapped[str] = mapped_column(ForeignKey("category.code"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    context_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("context.id"))
    young_person_refs: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    source_grade: Mapped[str] = mapped_column(String(1), nullable=False, server_default="C")
    info_grade: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="3")
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vehicle.id"))
    # H3 cells (res 7 ≈ 5 km², 8 ≈ 0.7 km², 9 ≈ 0.1 km²), computed at insert time.
    cell_r7: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cell_r8: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    cell_r9: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Revision 0016: the cube's keys, stored so its aggregate does no time zone work and
    # hashes integers (the calendar month in Europe/London; hashtext of the category code).
    local_month: Mapped[date] = mapped_column(
        Date,
        Computed("(date_trunc('month', occurred_at AT TIME ZONE 'Europe/London'))::date"),
    )
    category_key: Mapped[int] = mapped_column(Integer, Computed("hashtext(category::text)"))


class BasemapFeature(Base):
    """The demo town's own base map (drawn instead of web tiles). Not agency data."""

    __tablename__ = "basemap_feature"

    id: Mapped[uuid.UUID] = _uuid_pk()
    layer: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(32))
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=SRID), nullable=False)


# -- people, panels, audit (revision 0003) -------------------------------------------------

USER_ROLES = ("practitioner", "analyst", "panel_chair", "trainer", "agency_admin", "system_admin")
user_role = Enum(*USER_ROLES, name="user_role")
panel_kind = Enum("mace", "ldsm", name="panel_kind")


class AppUser(Base):
    """A person, belonging to one agency, with one role."""

    __tablename__ = "app_user"
    __table_args__ = (Index("uq_app_user_email", text("lower(email)"), unique=True),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agency.id"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(user_role, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_codes: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # Bumped to end every session of this user (password reset, second-factor reset).
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Panel(Base):
    """A MACE or LDSM panel; its member agencies are each other's panel partners."""

    __tablename__ = "panel"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(panel_kind, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class PanelMember(Base):
    __tablename__ = "panel_member"

    panel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("panel.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True
    )


class LoginAttempt(Base):
    """Log-in attempts for rate limiting, keyed by HMACs (no e-mail or IP address stored)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_account", "account_key", "at"),
        Index("ix_login_attempt_client", "client_key", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64), nullable=False)
    client_key: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)


class AuditLog(Base):
    """Append-only, hash-chained audit entries; id, time and hashes are set by a trigger."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_agency_at", "agency_id", "at"),
        Index("ix_audit_log_subject_at", "subject_agency_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    subject_agency_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_ids: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    request_id: Mapped[str | None] = mapped_column(String(64))
    justification: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, object]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class UserSession(Base):
    """A signed-in session (revision 0009): the cookie holds a random token, this row only its
    SHA-256. Checked on every request; ended by sign-out, the user, an admin, a timeout or an
    account change. RLS and the check constraints live in the migration."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user", "user_id", "revoked_at"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    token_sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False)
    #: A short label such as "Firefox on Linux"; never the raw header, never an address.
    user_agent: Mapped[str] = mapped_column(String(80), nullable=False, server_default="")
    created_at: Mapped[datetime] = _created_at()
    last_seen_at: Mapped[datetime] = _created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    ended_reason: Mapped[str | None] = mapped_column(String(16))


class AccessRefusal(Base):
    """Refused requests per actor per clock minute (revision 0009), so the audit entries of
    refusals can be capped across workers. Reached only through ``csmap_note_refusal``."""

    __tablename__ = "access_refusal"
    __table_args__ = (Index("ix_access_refusal_minute", "minute"),)

    actor_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    refusals: Mapped[int] = mapped_column(Integer, nullable=False)
