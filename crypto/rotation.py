"""Per-row rotation steps, free of storage: re-seal one payload, recompute one pseudonym."""

from __future__ import annotations

from crypto.keys import RelayKeyring, SealPublicKey
from crypto.pseudonym import recompute_pseudonym
from crypto.seal import open_contact, seal_contact, sealed_key_id


def needs_rewrap(blob: bytes, target: SealPublicKey) -> bool:
    """Return whether a blob's header names a key other than `target`; raise CannotOpen if malformed."""
    return sealed_key_id(blob) != target.key_id


def rewrap(
    blob: bytes,
    *,
    keyring: RelayKeyring,
    target: SealPublicKey,
    channel: str,
    contact_id: int,
) -> bytes:
    """Open a blob with `keyring` and seal its address again to `target` for the same row.

    Returns a new blob even when the old one already used `target`, so a
    caller can also use this to refresh a payload. Raises CannotOpen if the
    old blob does not open, in which case the row keeps its old blob.
    """
    identifier = open_contact(keyring, blob, channel=channel, contact_id=contact_id)
    return seal_contact(target, identifier, contact_id)


__all__ = ["needs_rewrap", "recompute_pseudonym", "rewrap"]
