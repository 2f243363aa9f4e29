"""Time pseudonymise, seal and open against the raw primitives they wrap, measured in the same run.

Run from the repository root: `python bench/bench_crypto.py [--quick]`.
Each figure is the best of several repeats, in microseconds per call. The
ratio is the sealbook operation's time over its baseline's: HMAC-SHA-256,
or `Suite.encrypt` and `Suite.decrypt` on the same 256-byte plaintext and info.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import platform
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cryptography

from crypto.keys import CustodianKeyring, PseudonymKey, SealPrivateKey
from crypto.normalise import Identifier, normalise
from crypto.pseudonym import pseudonymise
from crypto.seal import BlobHeader, build_info, open_contact, pad_address, seal_contact
from crypto.suites import SPECS, SealSuite, generate_private_bytes

CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def compare(
    name: str,
    ours: Callable[[], object],
    baseline_name: str,
    baseline: Callable[[], object],
    number: int,
    repeat: int,
) -> str:
    """Time both functions in alternating rounds and return a Markdown row with the ratio.

    Alternating keeps a burst of load from other processes from landing on
    one side only; each side keeps its best round, in microseconds per call.
    """
    ours_best = baseline_best = float("inf")
    for _ in range(repeat):
        ours_best = min(ours_best, timeit.timeit(ours, number=number) / number * 1e6)
        baseline_best = min(baseline_best, timeit.timeit(baseline, number=number) / number * 1e6)
    return (
        f"| {name} | {ours_best:.1f} | {baseline_name} | {baseline_best:.1f} "
        f"| {ours_best / baseline_best:.2f} |"
    )


def compare_suite(
    suite: SealSuite,
    key: PseudonymKey,
    identifier: Identifier,
    number: int,
    repeat: int,
) -> list[str]:
    """Return the seal and open rows for one suite."""
    private_key = SealPrivateKey("s1", suite, generate_private_bytes(suite), CREATED_AT)
    keyring = CustodianKeyring((key,), "p1", (private_key,), "s1")
    public_key, relay = keyring.front().active_seal_key, keyring.relay()
    hpke_suite = SPECS[suite].hpke_suite()
    plaintext = pad_address(identifier.value)
    info = build_info(BlobHeader(suite, "s1"), "sms", 42)
    blob = seal_contact(public_key, identifier, 42)
    raw = hpke_suite.encrypt(plaintext, public_key.hpke_key, info=info)
    return [
        compare(
            f"seal ({suite.value})",
            lambda: seal_contact(public_key, identifier, 42),
            "Suite.encrypt",
            lambda: hpke_suite.encrypt(plaintext, public_key.hpke_key, info=info),
            number,
            repeat,
        ),
        compare(
            f"open ({suite.value})",
            lambda: open_contact(relay, blob, channel="sms", contact_id=42),
            "Suite.decrypt",
            lambda: hpke_suite.decrypt(raw, private_key.hpke_key, info=info),
            number,
            repeat,
        ),
    ]


def main() -> None:
    """Print a Markdown table of timings and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few iterations, for a smoke test")
    arguments = parser.parse_args()
    number, repeat = (20, 2) if arguments.quick else (3000, 9)

    identifier = normalise("sms", "0412 345 678")
    key = PseudonymKey("p1", bytes(range(32)), CREATED_AT)
    message = identifier.keyed_bytes()

    def raw_hmac() -> bytes:
        return hmac.new(key.secret, message, hashlib.sha256).digest()

    rows = [
        compare(
            "pseudonymise",
            lambda: pseudonymise(key, identifier),
            "HMAC-SHA-256",
            raw_hmac,
            number,
            repeat,
        ),
        compare(
            "normalise + pseudonymise",
            lambda: pseudonymise(key, normalise("sms", "0412 345 678")),
            "HMAC-SHA-256",
            raw_hmac,
            number // 10,
            repeat,
        ),
    ]

    for suite in SealSuite:
        rows += compare_suite(suite, key, identifier, max(number // 10, 5), repeat)

    print(
        f"Python {platform.python_version()}, cryptography {cryptography.__version__}, {platform.machine()}"
    )
    print()
    print("| operation | µs | baseline | baseline µs | ratio |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
