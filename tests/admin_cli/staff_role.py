"""Creating the restricted staff role of ``docs/staff_role.sql`` inside a test schema, and dropping it."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_SERVER_URL

STAFF_ROLE_SQL = Path(__file__).resolve().parents[2] / "docs" / "staff_role.sql"


def schema_of(url: str) -> str:
    """Return the schema that a test URL's search path names."""
    match = re.search(r"search_path%3D(\w+)", url)
    if match is None:
        raise ValueError("the test URL names no search path")
    return match.group(1)


def _libpq_url(url: str) -> str:
    # psql takes a libpq URI: no SQLAlchemy driver name.
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def staff_role(schema_url: str) -> Iterator[str]:
    """Create a login role with the grants of docs/staff_role.sql; yield its URL; drop it afterwards."""
    psql = shutil.which("psql")
    if psql is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("psql is not installed; the staff role script cannot be checked")
        pytest.skip("psql is not installed; the staff role script cannot be checked")

    role = f"sealbook_staff_{secrets.token_hex(4)}"
    result = subprocess.run(
        [
            psql,
            "--no-psqlrc",
            "--quiet",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            f"staff_role={role}",
            "-v",
            f"schema={schema_of(schema_url)}",
            "-f",
            str(STAFF_ROLE_SQL),
            _libpq_url(schema_url),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        assert result.returncode == 0, result.stderr
        role_url = make_url(schema_url).set(username=role).render_as_string(hide_password=False)
        yield role_url
    finally:
        server = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        server.dispose()
