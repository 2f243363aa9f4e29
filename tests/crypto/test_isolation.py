"""Tests that the crypto package imports nothing from the rest of sealbook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {
    "sealbook",
    "bot",
    "flows",
    "booking",
    "relay",
    "admin_cli",
    "storage",
}
ALLOWED_THIRD_PARTY = {"cryptography", "idna", "phonenumbers"}


def test_import_crypto_loads_no_project_package() -> None:
    """Importing crypto in a fresh interpreter loads no sealbook package and only its three dependencies."""
    script = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import crypto\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = {name.split(".")[0] for name in json.loads(completed.stdout)}
    assert loaded & PROJECT_PACKAGES == set()
    third_party = {
        name
        for name in loaded - {"crypto"}
        if name not in sys.stdlib_module_names and not name.startswith("_")
    }
    assert third_party <= ALLOWED_THIRD_PARTY


def test_crypto_sources_import_nothing_from_project() -> None:
    """No module in crypto/ names another project package in an import line."""
    for path in (REPO_ROOT / "crypto").glob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in {"import", "from"}:
                assert words[1].split(".")[0] not in PROJECT_PACKAGES, f"{path.name}: {line}"
