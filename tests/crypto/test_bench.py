"""Tests that the crypto benchmark runs and reports a ratio for every operation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_reports_ratios() -> None:
    """A quick run prints a positive ratio for pseudonymise, and for seal and open in both suites."""
    completed = subprocess.run(
        [sys.executable, "bench/bench_crypto.py", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    names = [row.split("|")[1].strip() for row in rows[1:]]
    assert names == [
        "pseudonymise",
        "normalise + pseudonymise",
        "seal (x25519)",
        "open (x25519)",
        "seal (mlkem768-x25519)",
        "open (mlkem768-x25519)",
    ]
    for row in rows[1:]:
        assert float(row.split("|")[5]) > 0
