"""The ``sealbook keys`` commands: create, inspect, rotate and retire keys, and move rows onto new keys."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session, sessionmaker

from crypto import (
    CustodianKeyring,
    KeyringError,
    SealSuite,
    check_retirable,
    init_keyrings,
    load_custodian_keyring,
    retire_key,
    rotate_pseudonym_key,
    rotate_seal_key,
)
from sealbook.cli_support import HomeOption
from sealbook.clock import clock_from_env
from sealbook.errors import ConfigError
from sealbook.key_custody import (
    DEFAULT_BATCH_SIZE,
    BulkReport,
    KeyCustodyError,
    count_key_usage,
    repseudonymise_contacts,
    rewrap_contacts,
    rows_using_key,
)
from sealbook.logs import configure_logging
from sealbook.settings import CustodianSettings, load_settings
from storage import db
from storage.audit import record_audit

logger = logging.getLogger(__name__)

app = typer.Typer(help="Key custody: create, inspect, rotate and retire keys.", no_args_is_help=True)

AUDIT_ACTOR = "key-custodian"

SuiteOption = Annotated[
    str | None,
    typer.Option(
        "--suite",
        help="HPKE suite of the new relay key: x25519 or mlkem768-x25519 [default: keys.seal_suite setting]",
        show_default=False,
    ),
]
BatchOption = Annotated[
    int, typer.Option("--batch-size", min=1, max=10_000, help="Contact rows per transaction.")
]


@contextlib.contextmanager
def _keyring_errors() -> Iterator[None]:
    """Turn crypto's KeyringError into the project's error, whose message reaches the operator as one line."""
    try:
        yield
    except KeyringError as error:
        raise KeyCustodyError(str(error)) from None


def _settings(home: HomeOption) -> CustodianSettings:
    settings = load_settings(CustodianSettings, home)
    configure_logging(settings.log_level)
    return settings


def _suite(name: str) -> SealSuite:
    try:
        return SealSuite.from_name(name)
    except ValueError as error:
        raise ConfigError(str(error)) from None


@contextlib.contextmanager
def _database(
    settings: CustodianSettings, *, audited_action: str | None = None
) -> Iterator[sessionmaker[Session]]:
    """Open the database and, for a command that changes keys or rows, check that it accepts audit entries.

    With `audited_action`, a trial audit entry is written and rolled back
    before the command changes anything, so an unreachable or read-only
    database stops the command while every keyring and row is unchanged.
    """
    engine: Engine = db.make_engine(settings.effective_database_url)
    try:
        if audited_action is None:
            db.check_connection(engine)
        else:
            _check_audit_writable(engine, audited_action)
        yield db.make_session_factory(engine)
    finally:
        engine.dispose()


def _database_reason(error: exc.DBAPIError) -> str:
    # The driver's first line names the failure (connection refused,
    # read-only transaction). Later lines can quote row values, so they are
    # left out, and bound parameters are hidden by the engine anyway.
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__


def _check_audit_writable(engine: Engine, action: str) -> None:
    try:
        with db.make_session_factory(engine)() as session:
            session.begin()
            try:
                # The trial entry names no key id, and it is never committed.
                _add_audit_entry(session, action, None, "trial entry, rolled back")
            finally:
                session.rollback()
    except exc.DBAPIError as error:
        raise KeyCustodyError(
            f"cannot write the audit entry for {action} to the database {db.describe_url(engine.url)}: "
            f"{_database_reason(error)}. No key or contact row was changed. Check SEALBOOK_DATABASE_URL "
            "and that the database accepts writes, then run the command again."
        ) from None


def _add_audit_entry(session: Session, action: str, key_id: str | None, detail: str | None) -> None:
    # The reference column holds booking references only, so the key id
    # goes first in the detail, as `key=p2`.
    parts = [f"key={key_id}" if key_id else None, detail]
    record_audit(
        session,
        at=clock_from_env().now(),
        actor=AUDIT_ACTOR,
        action=action,
        reference=None,
        outcome="ok",
        detail=" ".join(part for part in parts if part) or None,
    )


def _audit_change(
    factory: sessionmaker[Session], action: str, key_id: str, done: str, detail: str | None = None
) -> None:
    """Record a change that has already been made; `done` describes that change if the entry fails."""
    try:
        with db.session_scope(factory) as session:
            _add_audit_entry(session, action, key_id, detail)
    except exc.DBAPIError as error:
        raise KeyCustodyError(
            f"{done}, but its audit entry ({action} for key {key_id}) is missing because writing it "
            f"to the database failed: {_database_reason(error)}. "
            "Tell whoever reviews the audit log that this entry is missing."
        ) from None


def _age(created_at: datetime, now: datetime) -> str:
    age = max(now - created_at, timedelta(0))
    if age >= timedelta(days=2):
        return f"{age.days} days"
    return f"{int(age.total_seconds() // 3600)} hours"


@app.command("init")
def init_command(home: HomeOption = None, suite: SuiteOption = None) -> None:
    """Create the three keyring files if none exists; change nothing if all exist."""
    settings = _settings(home)
    chosen = _suite(suite or settings.seal_suite)
    with _keyring_errors():
        created = init_keyrings(settings.keys_dir, chosen, now=clock_from_env().now())
    if created:
        typer.echo(f"created keyrings in {settings.keys_dir}: pseudonym key p1, seal key s1 ({chosen.value})")
    else:
        typer.echo(f"keyrings already exist in {settings.keys_dir}; nothing changed")


@app.command("status")
def status_command(home: HomeOption = None) -> None:
    """List key ids, suites, ages and how many contact rows use each key. Shows no key material."""
    settings = _settings(home)
    with _keyring_errors():
        custodian = load_custodian_keyring(settings.keys_dir)
    with _database(settings) as factory:
        usage = count_key_usage(factory)
    now = clock_from_env().now()

    typer.echo(f"keys folder {settings.keys_dir}")
    typer.echo(f"{'kind':<10} {'id':<6} {'suite':<16} {'active':<7} {'age':<10} rows")
    for key in custodian.pseudonym_keys:
        active = "yes" if key.key_id == custodian.active_pseudonym_key_id else "no"
        age = _age(key.created_at, now)
        typer.echo(f"{'pseudonym':<10} {key.key_id:<6} {'-':<16} {active:<7} {age:<10} {usage[key.key_id]}")
    for seal_key in custodian.seal_keys:
        active = "yes" if seal_key.key_id == custodian.active_seal_key_id else "no"
        age = _age(seal_key.created_at, now)
        line = f"{'seal':<10} {seal_key.key_id:<6} {seal_key.suite.value:<16} {active:<7} {age:<10}"
        typer.echo(f"{line} {usage[seal_key.key_id]}")
    for record in custodian.retired:
        typer.echo(f"{'retired':<10} {record.key_id:<6} retired {record.retired_at:%Y-%m-%d %H:%M} UTC")

    for hint in _status_hints(custodian, usage):
        typer.echo(hint)


def _status_hints(custodian: CustodianKeyring, usage: dict[str, int]) -> list[str]:
    hints = []
    held = {key.key_id for key in custodian.pseudonym_keys} | {key.key_id for key in custodian.seal_keys}
    for key_id in sorted(set(usage) - held):
        hints.append(
            f"warning: {usage[key_id]} contact rows name key {key_id}, which the custodian keyring "
            "does not contain; those contacts cannot be found or reached"
        )
    for key in custodian.pseudonym_keys:
        if key.key_id != custodian.active_pseudonym_key_id and usage.get(key.key_id):
            hints.append(f"{key.key_id} is still in use: run `sealbook keys repseudonymise`, then retire it")
    for seal_key in custodian.seal_keys:
        if seal_key.key_id != custodian.active_seal_key_id and usage.get(seal_key.key_id):
            hints.append(f"{seal_key.key_id} is still in use: run `sealbook keys rewrap`, then retire it")
    return hints


@app.command("rotate-pseudonym")
def rotate_pseudonym_command(home: HomeOption = None) -> None:
    """Add a pseudonym key and make it active; older keys stay for lookups until retired."""
    settings = _settings(home)
    action = "keys.rotate-pseudonym"
    with _database(settings, audited_action=action) as factory:
        with _keyring_errors():
            key_id = rotate_pseudonym_key(settings.keys_dir, now=clock_from_env().now())
        typer.echo(f"{key_id} is now the active pseudonym key.")
        typer.echo(
            "Restart the front so it uses it: returning patients move to it on their next message. "
            "Then run `sealbook keys repseudonymise` for the rest, and retire the old key."
        )
        _audit_change(
            factory, action, key_id, f"the rotation to pseudonym key {key_id} is done and stays in effect"
        )


@app.command("rotate-seal")
def rotate_seal_command(home: HomeOption = None, suite: SuiteOption = None) -> None:
    """Add a relay key pair and make it active; older private keys stay with the relay until retired."""
    settings = _settings(home)
    chosen = _suite(suite or settings.seal_suite)
    action = "keys.rotate-seal"
    with _database(settings, audited_action=action) as factory:
        with _keyring_errors():
            key_id = rotate_seal_key(settings.keys_dir, suite=chosen, now=clock_from_env().now())
        typer.echo(f"{key_id} ({chosen.value}) is now the active seal key.")
        typer.echo(
            "Restart the relay, then the front. Then run `sealbook keys rewrap` to re-seal older contacts, "
            "and retire the old key."
        )
        _audit_change(
            factory,
            action,
            key_id,
            f"the rotation to seal key {key_id} is done and stays in effect",
            f"suite={chosen.value}",
        )


def _print_bulk(action: str, report: BulkReport) -> None:
    typer.echo(
        f"{action}: {report.moved} rows moved, {report.skipped} changed meanwhile and skipped, "
        f"{report.failed} failed, in {report.batches} batches"
    )
    if report.failed:
        typer.echo("The failed rows kept their old key; their ids are in the log at WARNING level.")


@app.command("rewrap")
def rewrap_command(home: HomeOption = None, batch_size: BatchOption = DEFAULT_BATCH_SIZE) -> None:
    """Re-seal every contact row to the active seal key, in short transactions."""
    settings = _settings(home)
    with _keyring_errors():
        custodian = load_custodian_keyring(settings.keys_dir)
    action = "keys.rewrap"
    with _database(settings, audited_action=action) as factory:
        report = rewrap_contacts(factory, custodian, batch_size=batch_size)
        _print_bulk("rewrap", report)
        _audit_change(
            factory,
            action,
            custodian.active_seal_key_id,
            f"rewrap moved {report.moved} contact rows to seal key {custodian.active_seal_key_id}",
            f"moved={report.moved} failed={report.failed}",
        )
    if report.failed:
        raise typer.Exit(1)


@app.command("repseudonymise")
def repseudonymise_command(home: HomeOption = None, batch_size: BatchOption = DEFAULT_BATCH_SIZE) -> None:
    """Recompute every pseudonym under the active key, opening each sealed contact, in short transactions."""
    settings = _settings(home)
    with _keyring_errors():
        custodian = load_custodian_keyring(settings.keys_dir)
    action = "keys.repseudonymise"
    with _database(settings, audited_action=action) as factory:
        report = repseudonymise_contacts(factory, custodian, batch_size=batch_size)
        _print_bulk("repseudonymise", report)
        _audit_change(
            factory,
            action,
            custodian.active_pseudonym_key_id,
            f"repseudonymise moved {report.moved} contact rows to pseudonym key "
            f"{custodian.active_pseudonym_key_id}",
            f"moved={report.moved} failed={report.failed}",
        )
    if report.failed:
        raise typer.Exit(1)


@app.command("retire")
def retire_command(
    key_id: Annotated[
        str, typer.Argument(help="Id of the key to retire, as `sealbook keys status` lists it.")
    ],
    home: HomeOption = None,
) -> None:
    """Remove a key from every keyring; refused for the active key and while any contact row still uses it."""
    settings = _settings(home)
    with _keyring_errors():
        custodian = load_custodian_keyring(settings.keys_dir)
        # The active key is rejected before the row count, because moving
        # its rows needs a rotation first, not a bulk command.
        check_retirable(custodian, key_id)
    is_seal_key = any(key.key_id == key_id for key in custodian.seal_keys)
    action = "keys.retire"
    with _database(settings, audited_action=action) as factory:
        in_use = rows_using_key(factory, key_id)
        if in_use:
            remedy = "sealbook keys rewrap" if is_seal_key else "sealbook keys repseudonymise"
            raise KeyCustodyError(
                f"key {key_id} is still used by {in_use} contact rows. Run `{remedy}` first, then retire it."
            )
        # NOTE: a front still running with a keyring in which this key is
        # active can add rows under it after the check above. Restart every
        # front after a rotation, before retiring the old key.
        with _keyring_errors():
            retire_key(settings.keys_dir, key_id, now=clock_from_env().now())
        typer.echo(f"retired {key_id}; it is gone from the front, relay and custodian keyrings")
        _audit_change(factory, action, key_id, f"key {key_id} is retired and gone from every keyring")
