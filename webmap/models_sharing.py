"""Models added by revision 0006: shares and agency profiles. The tables' check constraints
and row-level security live in the migration; these classes mirror the columns."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from webmap.models import Base


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
    """The whole lattice cells a share covers, at its profile's resolution."""

    __tablename__ = "share_cell"

    share_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("share.id", ondelete="CASCADE"), primary_key=True
    )
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class AgencyProfile(Base):
    """An agency's tightened profile for one tier (never below the floors in code)."""

    __tablename__ = "agency_profile"

    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(1), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
