"""``sealbook init``, ``sealbook db`` and ``sealbook demo`` from the command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sealbook.cli import app
from sealbook.cli_support import run_app
from tests.conftest import InProcessRunner

SealbookRunner = Callable[..., subprocess.CompletedProcess[str]]
# The installed console script, for the one test that needs a real process (its umask).
SEALBOOK = [str(Path(sys.executable).with_name("sealbook"))]


def _run_sealbook_app(argv: list[str]) -> int:
    return run_app(app, "sealbook", argv)


@pytest.fixture
def run_sealbook(run_in_process: InProcessRunner) -> SealbookRunner:
    """Return a function that runs the sealbook command in this process with a clean SEALBOOK_* environment.

    Output that bypasses ``sys.stdout`` is captured too. The console script
    itself runs as a process in the demo journey, simulated day and relay
    process tests.
    """

    def run(
        *args: str, env: dict[str, str] | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        return run_in_process(_run_sealbook_app, args, env, stdin)

    return run


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_init_twice_keeps_keys(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A second init changes no key file, byte for byte, and says nothing changed."""
    home = tmp_path / "home"
    first = run_sealbook("init", "--home", str(home))
    keys_after_first = _snapshot(home / "keys")
    settings_after_first = (home / "sealbook.toml").read_bytes()

    second = run_sealbook("init", "--home", str(home))

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert _snapshot(home / "keys") == keys_after_first
    assert (home / "sealbook.toml").read_bytes() == settings_after_first


def test_init_files_private(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """Key files are readable by their owner only, and so are the home and its database."""
    home = tmp_path / "home"
    result = run_sealbook("init", "--home", str(home))

    assert result.returncode == 0, result.stderr
    assert home.stat().st_mode & 0o077 == 0
    assert (home / "sealbook.sqlite3").stat().st_mode & 0o077 == 0
    assert (home / "sealbook.toml").stat().st_mode & 0o777 == 0o600
    for key_file in (home / "keys").iterdir():
        assert key_file.stat().st_mode & 0o777 == 0o600, key_file.name


def test_init_settings_private_under_open_umask(tmp_path: Path) -> None:
    """The settings file is created with mode 0600 even when the umask would allow 0666."""
    home = tmp_path / "home"
    result = subprocess.run(
        ["sh", "-c", 'umask 000 && exec "$@"', "sh", *SEALBOOK, "init", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert (home / "sealbook.toml").stat().st_mode & 0o777 == 0o600


def test_init_rejects_readable_secret_file(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """An existing settings file with a password that others can read stops init and keeps its mode."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings_file = home / "sealbook.toml"
    settings_file.write_text('[relay]\nsmtp_password = "mail-password-value"\n', encoding="utf-8")
    settings_file.chmod(0o644)

    result = run_sealbook("init", "--home", str(home))

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "relay.smtp_password" in result.stderr
    assert f"chmod 600 {settings_file}" in result.stderr
    assert "mail-password-value" not in result.stderr
    assert settings_file.stat().st_mode & 0o777 == 0o644
    assert sorted(path.name for path in home.iterdir()) == ["sealbook.toml"]


def test_init_keeps_readable_plain_file(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """An existing settings file without secrets keeps its mode, even one others can read."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    settings_file = home / "sealbook.toml"
    settings_file.write_text('[clinic]\nname = "Harbourside"\n', encoding="utf-8")
    settings_file.chmod(0o644)

    result = run_sealbook("init", "--home", str(home))

    assert result.returncode == 0, result.stderr
    assert settings_file.stat().st_mode & 0o777 == 0o644


def test_init_uses_sealbook_home(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """Without --home, SEALBOOK_HOME names the home folder."""
    home = tmp_path / "from-env"
    result = run_sealbook("init", env={"SEALBOOK_HOME": str(home)})

    assert result.returncode == 0, result.stderr
    assert (home / "sealbook.toml").exists()


def test_bad_database_url_one_line(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A bad SEALBOOK_DATABASE_URL gives one clear line on stderr and a non-zero exit."""
    result = run_sealbook(
        "db", "current", "--home", str(tmp_path), env={"SEALBOOK_DATABASE_URL": "nonsense://"}
    )

    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert "SEALBOOK_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_one_line(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A database server that does not answer gives one line naming the setting."""
    result = run_sealbook(
        "db",
        "upgrade",
        "--home",
        str(tmp_path),
        env={"SEALBOOK_DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:1/test"},
    )

    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert "SEALBOOK_DATABASE_URL" in result.stderr
    assert "s3cret" not in result.stderr


def test_bad_log_level_one_line(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """An invalid SEALBOOK_LOG_LEVEL stops the command with one line naming it."""
    result = run_sealbook("init", "--home", str(tmp_path / "h"), env={"SEALBOOK_LOG_LEVEL": "LOUD"})

    assert result.returncode != 0
    assert "SEALBOOK_LOG_LEVEL" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_current_reports_head(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """After init, db current reports the database as up to date."""
    home = tmp_path / "home"
    run_sealbook("init", "--home", str(home))

    result = run_sealbook("db", "current", "--home", str(home))

    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_db_current_without_database(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """On a home without a database, db current creates no file and exits 1 naming ``sealbook init``."""
    home = tmp_path / "home"
    home.mkdir()

    result = run_sealbook("db", "current", "--home", str(home))

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "no database at" in result.stderr
    assert "sealbook init" in result.stderr
    assert list(home.iterdir()) == []


def test_db_current_missing_sqlite_url(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A SQLite URL naming a missing file is reported, not created as an empty database."""
    database_file = tmp_path / "elsewhere.sqlite3"
    env = {"SEALBOOK_DATABASE_URL": f"sqlite+pysqlite:///{database_file}"}

    result = run_sealbook("db", "current", "--home", str(tmp_path), env=env)

    assert result.returncode == 1
    assert f"no database at {database_file}" in result.stderr
    assert not database_file.exists()


def test_init_on_postgresql(tmp_path: Path, postgres_url: str, run_sealbook: SealbookRunner) -> None:
    """With SEALBOOK_DATABASE_URL, init migrates PostgreSQL and a second init changes nothing."""
    env = {"SEALBOOK_DATABASE_URL": postgres_url}
    first = run_sealbook("init", "--home", str(tmp_path / "home"), env=env)
    second = run_sealbook("init", "--home", str(tmp_path / "home"), env=env)

    assert first.returncode == 0, first.stderr
    assert "created database" in first.stdout
    assert "nothing changed" in second.stdout
    assert not (tmp_path / "home" / "sealbook.sqlite3").exists()


@pytest.mark.parametrize("script", ["hi\n", "", "hello\n\n\x00weird\nquit\nnever read\n"])
def test_demo_runs_without_terminal(tmp_path: Path, script: str, run_sealbook: SealbookRunner) -> None:
    """The demo reads the patient's lines from a pipe and runs to the end."""
    result = run_sealbook("demo", "--home", str(tmp_path / "home"), stdin=script)

    assert result.returncode == 0, result.stderr
    # The demo loads the demo clinic and books through the dialogue before reading the pipe.
    assert "Harbourside Family Practice" in result.stdout
    assert "Booked. Your reference is " in result.stdout
    assert "Traceback" not in result.stderr
    assert "never read" not in result.stdout


def test_usage_mistake_reported_by_typer(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A missing option gives typer's usage message and exit code 2, not an unexpected error."""
    result = run_sealbook("chat", "--home", str(tmp_path))

    assert result.returncode == 2
    assert "--phone" in result.stderr
    assert "unexpected error" not in result.stderr


def test_unknown_command_usage_error(run_sealbook: SealbookRunner) -> None:
    """An unknown sub-command is a usage error."""
    result = run_sealbook("nosuchcommand")

    assert result.returncode == 2
    assert "unexpected error" not in result.stderr


@pytest.mark.parametrize("folder", ["q?x", "pct%41x", "with space"])
def test_database_stays_in_odd_home(tmp_path: Path, folder: str, run_sealbook: SealbookRunner) -> None:
    """A home whose path holds URL syntax characters keeps its database inside it."""
    home = tmp_path / folder
    result = run_sealbook("init", "--home", str(home))

    assert result.returncode == 0, result.stderr
    assert (home / "sealbook.sqlite3").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == [folder]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:notaport/test", "not a valid database URL"),
        ("sqlite+nosuchdriver:///x.db", "not installed"),
        ("postgresql://postgres@127.0.0.1:5432/test?connect_timeout=abc", "cannot use the database"),
    ],
)
def test_bad_database_url_named(
    tmp_path: Path, url: str, expected: str, run_sealbook: SealbookRunner
) -> None:
    """Each kind of bad database URL gives one line that says what is wrong."""
    result = run_sealbook("db", "current", "--home", str(tmp_path), env={"SEALBOOK_DATABASE_URL": url})

    assert result.returncode == 1
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1


def test_sqlite_file_not_database(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A file that is not a SQLite database gives one line, not an unexpected error."""
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("root:x:0:0:root:/root:/bin/bash\n" * 50)
    url = f"sqlite+pysqlite:///{not_a_database}"

    result = run_sealbook("db", "upgrade", "--home", str(tmp_path), env={"SEALBOOK_DATABASE_URL": url})

    assert result.returncode == 1
    assert "cannot use the database" in result.stderr
    assert "unexpected error" not in result.stderr


def test_unknown_revision_not_upgraded(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A database at a revision this code does not know is reported, never upgraded."""
    import sqlite3

    home = tmp_path / "home"
    run_sealbook("init", "--home", str(home))
    with sqlite3.connect(home / "sealbook.sqlite3") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_future'")

    current = run_sealbook("db", "current", "--home", str(home))
    upgrade = run_sealbook("db", "upgrade", "--home", str(home))

    assert "unknown to this version" in current.stdout
    assert upgrade.returncode == 1
    assert "0099_future" in upgrade.stderr
    assert "unexpected error" not in upgrade.stderr


def test_home_under_file_one_line(tmp_path: Path, run_sealbook: SealbookRunner) -> None:
    """A home whose parent is a file gives one line naming the path."""
    blocker = tmp_path / "afile"
    blocker.write_text("")

    result = run_sealbook("init", "--home", str(blocker / "home"))

    assert result.returncode == 1
    assert "afile" in result.stderr
    assert "unexpected error" not in result.stderr
