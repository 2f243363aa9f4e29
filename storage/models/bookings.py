"""Bookings and the time cells that make a double booking impossible.

A booking claims every 5-minute cell of its practitioner's time from its
start to the end of the buffer after it, one `booking_cells` row per cell.
The primary key (practitioner, cell) lets the database itself reject a
second claim on any overlapping time, on SQLite and PostgreSQL alike, and
whatever the two appointments' lengths. The cells are written in the
booking's own transaction; a move replaces them and a cancel deletes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

CELL_SECONDS = 300
"""Length of a time cell; cell n covers [n * 300 s, (n + 1) * 300 s) after the Unix epoch."""


class BookingRow(Base):
    """One booking: who it belongs to, with whom, when, and where it is in its life.

    `status` is one of `booking.status.BookingStatus`. The check-in and
    consult timestamps feed the running-late projection.
    """

    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_practitioner_starts", "practitioner_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Display form such as K7QM-4X2P.
    reference: Mapped[str] = mapped_column(String(9), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"))
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # End of the buffer after the appointment: the last instant the cells cover.
    occupied_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consult_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consult_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many times the booking was moved; part of notice dedupe keys.
    moves: Mapped[int] = mapped_column(Integer)


class BookingCellRow(Base):
    """One 5-minute cell of a practitioner's time, claimed by one booking."""

    __tablename__ = "booking_cells"

    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id"), primary_key=True, autoincrement=False
    )
    cell: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
