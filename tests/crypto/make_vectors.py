"""Write docs/protocol_vectors.json: fixed keys and identifiers, their pseudonyms, info bytes and blobs.

Run `python tests/crypto/make_vectors.py` from the repository root. It also
rewrites the vector section at the end of docs/PROTOCOL.md. Pseudonyms
and info bytes come out the same on every run; sealed blobs differ because
HPKE draws a fresh ephemeral key, and every generated blob is valid.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from crypto.keys import PseudonymKey, SealPrivateKey
from crypto.normalise import normalise
from crypto.pseudonym import pseudonymise
from crypto.seal import BlobHeader, build_info, pad_address, seal_contact
from crypto.suites import SealSuite

VECTORS_PATH = Path(__file__).resolve().parents[2] / "docs" / "protocol_vectors.json"
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)

PSEUDONYM_KEYS = {"p1": bytes(range(0x20)), "p2": bytes(range(0x20, 0x40))}
SEAL_KEYS = {
    "s1": (SealSuite.X25519, bytes(range(0x40, 0x60))),
    "s2": (
        SealSuite.MLKEM768_X25519,
        bytes(range(0x60, 0xA0)) + bytes(range(0xA0, 0xC0)),
    ),
}
IDENTIFIERS = [
    ("sms", "0412 345 678"),
    ("sms", "+61 (0) 412-345-678"),
    ("telegram", "123456789"),
    ("email", "  Jane.Doe@Example.ORG "),
    ("email", "Élodie@Bücher.example"),
    ("email", "Jane@Straße.de"),
]
SEALED = [
    ("s1", "sms", "0412 345 678", 42),
    ("s1", "email", "jane.doe@example.org", 7),
    ("s2", "sms", "0412 345 678", 42),
    ("s2", "telegram", "123456789", 18446744073709551615),
]


def build_vectors() -> dict[str, Any]:
    """Return the vector document."""
    pseudonyms = []
    for channel, raw in IDENTIFIERS:
        identifier = normalise(channel, raw)
        for key_id, secret in PSEUDONYM_KEYS.items():
            tag = pseudonymise(PseudonymKey(key_id, secret, CREATED_AT), identifier).tag
            pseudonyms.append(
                {
                    "channel": channel,
                    "raw": raw,
                    "normalised": identifier.value,
                    "hmac_input_hex": identifier.keyed_bytes().hex(),
                    "key_id": key_id,
                    "key_hex": secret.hex(),
                    "pseudonym_hex": tag.hex(),
                }
            )

    seal_keys = {}
    for key_id, (suite, private) in SEAL_KEYS.items():
        seal_keys[key_id] = SealPrivateKey(key_id, suite, private, CREATED_AT)
    sealed = []
    for key_id, channel, raw, contact_id in SEALED:
        private_key = seal_keys[key_id]
        identifier = normalise(channel, raw)
        header = BlobHeader(private_key.suite, key_id)
        sealed.append(
            {
                "suite": private_key.suite.value,
                "key_id": key_id,
                "private_key_hex": private_key.private_bytes.hex(),
                "public_key_hex": private_key.public().public_bytes.hex(),
                "channel": channel,
                "contact_id": contact_id,
                "address": identifier.value,
                "padded_plaintext_hex": pad_address(identifier.value).hex(),
                "header_hex": header.encode().hex(),
                "info_hex": build_info(header, channel, contact_id).hex(),
                "blob_hex": seal_contact(private_key.public(), identifier, contact_id).hex(),
            }
        )
    return {
        "format": "sealbook-protocol-vectors",
        "version": 1,
        "pseudonyms": pseudonyms,
        "sealed": sealed,
    }


def _wrapped(hex_text: str, width: int = 64) -> str:
    return "\n".join(hex_text[start : start + width] for start in range(0, len(hex_text), width))


def render_markdown(vectors: dict[str, Any]) -> str:
    """Return the test-vector section of docs/PROTOCOL.md for `vectors`."""
    lines = [
        "### Pseudonyms",
        "",
        "| channel | typed | key | pseudonym (hex) |",
        "| --- | --- | --- | --- |",
    ]
    for vector in vectors["pseudonyms"]:
        lines.append(
            f"| {vector['channel']} | `{vector['raw']}` | {vector['key_id']} | `{vector['pseudonym_hex']}` |"
        )
    lines += [
        "",
        "Pseudonym keys: `p1` is bytes 0x00 to 0x1f, `p2` is bytes 0x20 to 0x3f.",
        "",
    ]
    for vector in vectors["sealed"]:
        lines += [
            f"### Sealed: {vector['suite']}, key {vector['key_id']}, "
            f"{vector['channel']} row {vector['contact_id']}",
            "",
            f"Address: `{vector['address']}`",
            "",
            "Private key:",
            "",
            "```",
            _wrapped(vector["private_key_hex"]),
            "```",
            "",
            "Info:",
            "",
            "```",
            _wrapped(vector["info_hex"]),
            "```",
            "",
            "Blob:",
            "",
            "```",
            _wrapped(vector["blob_hex"]),
            "```",
            "",
        ]
    return "\n".join(lines)


MARKER = "<!-- Generated by tests/crypto/make_vectors.py from here to the end. -->"


def update_protocol_doc(vectors: dict[str, Any]) -> None:
    """Replace everything after MARKER in docs/PROTOCOL.md with the rendered vectors."""
    doc_path = VECTORS_PATH.with_name("PROTOCOL.md")
    head, marker, _ = doc_path.read_text().partition(MARKER)
    if not marker:
        raise SystemExit(f"{doc_path} has no line {MARKER!r}; add it where the vectors go")
    doc_path.write_text(head + MARKER + "\n\n" + render_markdown(vectors))


if __name__ == "__main__":
    document = build_vectors()
    VECTORS_PATH.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    update_protocol_doc(document)
    print(f"wrote {VECTORS_PATH} and its section of PROTOCOL.md")
