"""All sealbook models, imported here so that ``Base.metadata`` is complete."""

from storage.models import audit, bookings, clinic, contacts, delays, dialogue, inbound, outbox
from storage.models.base import Base, UTCDateTime

__all__ = [
    "Base",
    "UTCDateTime",
    "audit",
    "bookings",
    "clinic",
    "contacts",
    "delays",
    "dialogue",
    "inbound",
    "outbox",
]
