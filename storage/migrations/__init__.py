"""Alembic migrations of the sealbook schema, run on SQLite and PostgreSQL alike."""
