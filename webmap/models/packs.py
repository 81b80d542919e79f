"""Models added by revision 0007: briefing packs and their editable default texts. The check
constraints and row-level security live in the migration; these classes mirror the columns."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from webmap.models.core import Base


class BriefingPack(Base):
    """A tier C share, plus what the pack says and, once approved, its checked output."""

    __tablename__ = "briefing_pack"
    __table_args__ = (Index("ix_briefing_pack_agency", "agency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    share_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("share.id"), nullable=False, unique=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    recipient_name: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    marking: Mapped[str] = mapped_column(String(60), nullable=False)
    signs: Mapped[str] = mapped_column(Text, nullable=False)
    how_to_report: Mapped[str] = mapped_column(Text, nullable=False)
    route_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
    hub_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
    issued_on: Mapped[date | None] = mapped_column(Date)
    review_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    withdrawn_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    html: Mapped[str | None] = mapped_column(Text, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    html_sha256: Mapped[str | None] = mapped_column(String(64))


class BriefingText(Base):
    """An agency's default pack texts for one area, or (``area_id`` None) for all its packs."""

    __tablename__ = "briefing_text"
    __table_args__ = (
        UniqueConstraint(
            "agency_id", "area_id", name="uq_briefing_text_area", postgresql_nulls_not_distinct=True
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id"))
    signs: Mapped[str] = mapped_column(Text, nullable=False)
    how_to_report: Mapped[str] = mapped_column(Text, nullable=False)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
