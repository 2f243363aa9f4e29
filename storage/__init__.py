"""Persistence for sealbook: typed SQLAlchemy models, engine set-up and Alembic migrations."""
