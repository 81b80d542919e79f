"""Models added by revision 0004: versions, note moderation, idempotency, the place-feature
tick-list and the police.uk reference layer. (Split from models.py to keep modules small.)"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
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
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from webmap.models.core import SRID, Base


class PlaceFeature(Base):
    """The configurable place-feature tick-list (StreetSafe style)."""

    __tablename__ = "place_feature"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    sort: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class RecordVersion(Base):
    """One change of a record: who, when, which fields (never the note's text)."""

    __tablename__ = "record_version"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(32), nullable=False)
    object_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    changed_fields: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    changed_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class NoteHistory(Base):
    """Earlier and redacted note texts: readable only by the owning agency's admins."""

    __tablename__ = "note_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    observation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("observation.id"), nullable=False, index=True
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    endpoint: Mapped[str] = mapped_column(String(200), nullable=False)
    body_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    response: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class VehicleMatchQuery(Base):
    """One cross-agency match query (revision 0010): what the per-user and per-agency limits
    count. Written only by ``csmap_vehicle_match``."""

    __tablename__ = "vehicle_match_query"
    __table_args__ = (Index("ix_vehicle_match_query_agency_at", "agency_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vehicle.id"), nullable=False)
    matched: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class VehicleMatchNotice(Base):
    """Tells the matched agency (``agency_id``) who asked about its vehicle, and when: the
    asker's agency and user as they were named then (revision 0010)."""

    __tablename__ = "vehicle_match_notice"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vehicle.id"), nullable=False, index=True
    )
    from_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), nullable=False)
    from_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), nullable=False)
    from_agency_name: Mapped[str] = mapped_column(String(200), nullable=False)
    from_user_name: Mapped[str] = mapped_column(String(200), nullable=False)
    from_role: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class ReferenceCrime(Base):
    """data.police.uk street-level crimes: a reference layer every agency may see."""

    __tablename__ = "reference_crime"
    __table_args__ = (
        Index("ix_reference_crime_month", "month"),
        Index(
            "uq_reference_crime_id",
            "crime_id",
            unique=True,
            postgresql_where=text("crime_id IS NOT NULL AND crime_id <> ''"),
        ),
        # Rows without a Crime ID: a digest of their content and occurrence (migration 0014).
        Index(
            "uq_reference_crime_content",
            "content_key",
            unique=True,
            postgresql_where=text("content_key IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    crime_id: Mapped[str | None] = mapped_column(String(100))
    month: Mapped[date] = mapped_column(Date, nullable=False)
    reported_by: Mapped[str | None] = mapped_column(String(200))
    falls_within: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(300))
    lsoa_code: Mapped[str | None] = mapped_column(String(20))
    lsoa_name: Mapped[str | None] = mapped_column(String(200))
    crime_type: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(300))
    context: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True), nullable=False
    )
    content_key: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


# -- the cell lattice (revision 0005) -----------------------------------------------------


class Cell(Base):
    """One H3 cell of the fixed lattice over the service area, with its outline."""

    __tablename__ = "cell"

    res: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POLYGON", srid=SRID, spatial_index=True), nullable=False
    )


class CellArea(Base):
    """The area (of each current boundary set) that contains a cell's centre."""

    __tablename__ = "cell_area"
    __table_args__ = (Index("ix_cell_area_area", "area_id", "res"),)

    res: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("area.id", ondelete="CASCADE"), primary_key=True
    )


class CellMonth(Base):
    """Observations per cell, calendar month, category and recording agency (triggers)."""

    __tablename__ = "cell_month"
    __table_args__ = (Index("ix_cell_month_agency", "agency_id", "res", "month"),)

    res: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False)
    # Revision 0016: the category as observation.category_key, for the rebuild's comparison.
    category_key: Mapped[int] = mapped_column(Integer, Computed("hashtext(category::text)"))


class CellMonthGeneration(Base):
    """Revision 0016: a counter per (agency, month), bumped by the cube's triggers in the
    transaction that changes those counts; a tile's cache version is the sum over its months."""

    __tablename__ = "cell_month_generation"

    agency_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False)
