"""Models added by revisions 0006 and 0008: shares, agency profiles and the publication
ledger. The tables' check constraints, triggers and row-level security live in the
migrations; these classes mirror the columns."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from webmap.models.core import Base


class Share(Base):
    """One agency's redacted share of its layers with recipients, under agreed terms."""

    __tablename__ = "share"
    __table_args__ = (Index("ix_share_from", "from_agency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    from_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    tier: Mapped[str] = mapped_column(String(1), nullable=False)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    resolution: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    recipient_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    panel_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("panel.id"))
    external_name: Mapped[str | None] = mapped_column(String(200))
    #: The external recipient's normalised name and organisation: one audience, one tier.
    external_key: Mapped[str | None] = mapped_column(String(400))
    layers: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    buffer_rings: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    period_from: Mapped[date] = mapped_column(Date, nullable=False)
    period_to: Mapped[date | None] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    lawful_basis: Mapped[str] = mapped_column(String(300), nullable=False)
    agreement_ref: Mapped[str] = mapped_column(String(100), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    link_nonce: Mapped[str | None] = mapped_column(String(64))


class ShareRecipient(Base):
    __tablename__ = "share_recipient"
    __table_args__ = (Index("ix_share_recipient_agency", "agency_id"),)

    share_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("share.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), primary_key=True)


class ShareArea(Base):
    __tablename__ = "share_area"

    share_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("share.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("area.id"), primary_key=True)


class ShareCell(Base):
    """The whole lattice cells a share covers, at each resolution its tier may be published at
    (its profile's, and coarser ones a later profile may use)."""

    __tablename__ = "share_cell"

    share_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("share.id", ondelete="CASCADE"), primary_key=True
    )
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    res: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class AgencyProfile(Base):
    """An agency's tightened profile for one tier (never below the floors in code)."""

    __tablename__ = "agency_profile"

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(1), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Publication(Base):
    """One source agency's tier B or C release of one calendar period, written once."""

    __tablename__ = "publication"
    __table_args__ = (
        UniqueConstraint("agency_id", "tier", "period_start", name="uq_publication_period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False, unique=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    tier: Mapped[str] = mapped_column(String(1), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    resolution: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    published_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    prev_sha256: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class PublicationCell(Base):
    """A published cell: its count (tier B, or rounded tier C) or its band label."""

    __tablename__ = "publication_cell"

    publication_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publication.id"), primary_key=True
    )
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int | None] = mapped_column(Integer)
    band: Mapped[str | None] = mapped_column(String(20))


class PublicationContext(Base):
    """A published context under an opaque reference of this publication's own."""

    __tablename__ = "publication_context"

    publication_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publication.id"), primary_key=True
    )
    ref: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    precise: Mapped[bool] = mapped_column(Boolean, nullable=False)


class PublicationMark(Base):
    """A masked registration mark published in one cell of a publication."""

    __tablename__ = "publication_mark"

    publication_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publication.id"), primary_key=True
    )
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mark: Mapped[str] = mapped_column(String(16), primary_key=True)
