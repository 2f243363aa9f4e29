"""Dates typed on the command line: day words, ISO dates and date-times, and the years accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.dates import parse_day, parse_local_datetime, parse_since
from admin_cli.errors import EXIT_USAGE, InvalidInput
from tests.admin_cli.clinic_day import ADMIN_NOW, seed_clinic_day
from tests.admin_cli.conftest import AdminRunner

SYDNEY = ZoneInfo("Australia/Sydney")


@pytest.mark.parametrize("text", ["9999-12-31", "9999-01-01", "0001-01-01", "1899-12-31"])
def test_parse_day_out_of_range(text: str) -> None:
    """A date outside 1900 to 9998 is invalid input, not an overflow."""
    with pytest.raises(InvalidInput, match="--date must be a date from 1900-01-01 to 9998-12-31"):
        parse_day(text, ADMIN_NOW, SYDNEY)


@pytest.mark.parametrize(
    "text", ["9999-12-31", "9999-12-31T23:59", "9999-12-31T20:00-05:00", "0001-01-01T00:10+05:00"]
)
def test_parse_since_out_of_range(text: str) -> None:
    """``--since`` rejects dates and date-times outside 1900 to 9998, with or without an offset."""
    with pytest.raises(InvalidInput, match="--since must be a date from"):
        parse_since(text, ADMIN_NOW, UTC)


@pytest.mark.parametrize("text", ["9999-12-31T10:00", "9999-12-31T23:00-05:00", "0001-01-01T00:10"])
def test_parse_local_datetime_out_of_range(text: str) -> None:
    """A new start outside 1900 to 9998 is invalid input, whatever its offset."""
    with pytest.raises(InvalidInput, match="the time must be a date from"):
        parse_local_datetime(text, SYDNEY)


def test_range_ends_accepted() -> None:
    """The first and last accepted days convert to UTC, with and without an offset."""
    assert parse_day("1900-01-01", ADMIN_NOW, SYDNEY) == date(1900, 1, 1)
    assert parse_day("9998-12-31", ADMIN_NOW, SYDNEY) == date(9998, 12, 31)
    assert parse_since("9998-12-31", ADMIN_NOW, SYDNEY) == datetime(9998, 12, 30, 13, 0, tzinfo=UTC)
    assert parse_since("9998-12-31T23:59-14:00", ADMIN_NOW, UTC) == datetime(9999, 1, 1, 13, 59, tzinfo=UTC)
    assert parse_local_datetime("1900-01-01T00:00", SYDNEY).year == 1899


@pytest.mark.parametrize(
    "args",
    [
        ["day", "--date", "9999-12-31"],
        ["day", "--date", "0001-01-01"],
        ["hours", "lee", "--date", "9999-12-30"],
        ["audit", "--since", "9999-12-31"],
        ["audit", "--since", "0001-01-01T00:10+05:00"],
        ["message", "--practitioner", "lee", "--date", "9999-12-31", "Running on time"],
        ["leave", "lee", "2027-03-12", "--until", "9999-12-31"],
        ["late", "lee", "10", "--date", "9999-12-31"],
        ["away", "lee", "--from", "10:00", "--date", "9999-12-31"],
    ],
    ids=" ".join,
)
def test_command_rejects_out_of_range(
    session_factory: sessionmaker[Session], admin: AdminRunner, args: list[str]
) -> None:
    """Every command that takes a date gives one line and exit 2 for a year it cannot handle."""
    seed_clinic_day(session_factory)

    run = admin(*args)

    assert run.code == EXIT_USAGE, run.err
    assert run.err.count("\n") == 1
    assert "must be a date from 1900-01-01 to 9998-12-31" in run.err
    assert run.out == ""


def test_move_rejects_out_of_range(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``move`` to a start in year 9999 is invalid input, not a booking rule's refusal."""
    clinic_day = seed_clinic_day(session_factory)

    run = admin("move", clinic_day.lee_second, "9999-12-31T10:00")

    assert run.code == EXIT_USAGE, run.err
    assert "the time must be a date from 1900-01-01 to 9998-12-31" in run.err


@pytest.mark.parametrize(
    "args",
    [
        ["day", "--date", "9998-12-31"],
        ["day", "--date", "1900-01-01"],
        ["hours", "lee", "--date", "9998-12-31", "--days", "62"],
        ["audit", "--since", "1900-01-01"],
        ["audit", "--since", "9998-12-31"],
    ],
    ids=" ".join,
)
def test_command_accepts_range_ends(
    session_factory: sessionmaker[Session], admin: AdminRunner, args: list[str]
) -> None:
    """The first and last accepted days work, including 62 days of hours from the last one."""
    seed_clinic_day(session_factory)

    run = admin(*args)

    assert run.code == 0, run.err
