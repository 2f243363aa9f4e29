"""Running-late declarations and the steps each booking has been notified at."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

# Kinds of declaration: "late" sets the delay floor of the day (0 means back
# on time); "away" records that the practitioner left from away_from_at.
DECLARATION_KINDS = ("late", "away")


class DelayDeclaration(Base):
    """A staff declaration about one practitioner's local day; the newest "late" one is in force.

    Rows are only added, so the table is also the day's history of declarations.
    """

    __tablename__ = "delay_declarations"
    __table_args__ = (Index("ix_delay_declarations_day", "practitioner_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    late_minutes: Mapped[int | None] = mapped_column(Integer)
    away_from_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who declared it, as recorded in the audit log: an operator name, never a patient.
    actor: Mapped[str] = mapped_column(String(64))


class LateNoticeStep(Base):
    """One step of delay that one booking's patient has been notified at.

    The primary key makes a second notice for the same step of the same
    booking impossible, whichever process computes it. ``booking_moves`` is
    the booking's move count when notified, so a moved booking starts afresh.
    """

    __tablename__ = "late_notice_steps"

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    booking_moves: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    step: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    delay_minutes: Mapped[int] = mapped_column(Integer)
    expected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime)
