"""Models added by revision 0015: panels' areas, meetings, referrals and Four-P actions. The
check constraints and row-level security live in the migration; these classes mirror the
columns."""

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
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from webmap.models.core import Base


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class PanelArea(Base):
    """One area (of any boundary set) that makes up a panel's area."""

    __tablename__ = "panel_area"

    panel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("panel.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("area.id"), primary_key=True)


class Meeting(Base):
    """A panel's meeting; read-only once closed."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_panel", "panel_id", "held_on"),)

    id: Mapped[uuid.UUID] = _id()
    panel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("panel.id"), nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    chair_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    chair_name: Mapped[str] = mapped_column(String(200), nullable=False)
    chair_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, server_default="open")
    agenda: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    agenda_drafted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class MeetingAttendance(Base):
    """Whether a member agency attended a meeting, sent apologies or was absent, and who."""

    __tablename__ = "meeting_attendance"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    people: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    recorded_at: Mapped[datetime] = _now()


class MeetingDecision(Base):
    """A decision or minute; a correction is a new row naming the one it corrects."""

    __tablename__ = "meeting_decision"
    __table_args__ = (Index("ix_meeting_decision_meeting", "meeting_id"),)

    id: Mapped[uuid.UUID] = _id()
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meeting_decision.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    recorded_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = _now()


class Referral(Base):
    """A member agency's context brought to a panel: a recorded disclosure holding only what
    tier B shows of the place."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_panel", "panel_id"),
        Index(
            "uq_referral_open",
            "panel_id",
            "context_id",
            unique=True,
            postgresql_where=text("stage <> 'closed'"),
        ),
    )

    id: Mapped[uuid.UUID] = _id()
    panel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("panel.id"), nullable=False)
    context_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("context.id"), nullable=False)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    lawful_basis: Mapped[str] = mapped_column(Text, nullable=False)
    referred_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    referred_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    referred_at: Mapped[datetime] = _now()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    precise: Mapped[bool] = mapped_column(Boolean, nullable=False)
    cell: Mapped[int] = mapped_column(BigInteger, nullable=False)
    res: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    stage: Mapped[str] = mapped_column(String(12), nullable=False, server_default="referred")
    weighting: Mapped[str | None] = mapped_column(String(8))
    next_review_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    updated_at: Mapped[datetime] = _now()


class ReferralStage(Base):
    """One step of a referral's life cycle: who, when, why, and the next review date."""

    __tablename__ = "referral_stage"
    __table_args__ = (Index("ix_referral_stage_referral", "referral_id"),)

    id: Mapped[uuid.UUID] = _id()
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), nullable=False)
    stage: Mapped[str] = mapped_column(String(12), nullable=False)
    weighting: Mapped[str | None] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    changed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    changed_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    changed_at: Mapped[datetime] = _now()


class PanelAction(Base):
    """A Four-P action agreed at a meeting, owned by a member agency."""

    __tablename__ = "panel_action"
    __table_args__ = (
        Index("ix_panel_action_panel", "panel_id"),
        Index("ix_panel_action_owner", "owner_agency_id"),
    )

    id: Mapped[uuid.UUID] = _id()
    panel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("panel.id"), nullable=False)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id"), nullable=False)
    four_p: Mapped[str] = mapped_column(String(8), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    owner_name: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"))
    cell: Mapped[int | None] = mapped_column(BigInteger)
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("area.id"))
    status: Mapped[str] = mapped_column(String(12), nullable=False, server_default="open")
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    created_at: Mapped[datetime] = _now()
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    updated_at: Mapped[datetime] = _now()


class ActionUpdate(Base):
    """Progress on an action, posted by its owner agency (or a panel chair)."""

    __tablename__ = "action_update"
    __table_args__ = (Index("ix_action_update_action", "action_id"),)

    id: Mapped[uuid.UUID] = _id()
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("panel_action.id"), nullable=False)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str | None] = mapped_column(String(12))
    posted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    posted_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    posted_at: Mapped[datetime] = _now()
