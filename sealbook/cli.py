"""The ``sealbook`` command for operators and services."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from booking.importing import describe_summary
from bot import console
from bot import serve as bot_serve
from relay.cli import relay_command
from sealbook import demo as guided_demo
from sealbook import keys_cli, late_tick_cmd
from sealbook import simulate as simulate_cmd
from sealbook.cli_support import HomeOption, run_app
from sealbook.clock import clock_from_env
from sealbook.home import initialise_home
from sealbook.logs import configure_logging
from sealbook.settings import CommonSettings, FrontSettings, load_settings, resolve_home
from storage import db

app = typer.Typer(
    help="sealbook: chat-bot bookings with sealed contact details.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_cli.app, name="keys")
app.command("late-tick")(late_tick_cmd.late_tick)
app.command("simulate-day")(simulate_cmd.simulate_day_command)
app.command("relay")(relay_command)
app.command("serve")(bot_serve.serve_command)
app.command("telegram-poll")(bot_serve.telegram_poll_command)

DEMO_PHONE = "+61 491 570 006"


@app.command()
def init(
    home: HomeOption = None,
    profile: Annotated[
        str, typer.Option(help="Domain profile: medical, student-consultations or law-practice.")
    ] = "medical",
    demo_clinic: Annotated[
        bool, typer.Option("--demo-clinic", help="Also load (or refresh) the shipped demo clinic.")
    ] = False,
) -> None:
    """Create a home: settings file, keyrings and a migrated database."""
    resolved = resolve_home(home)
    configure_logging(load_settings(CommonSettings, resolved).log_level)
    report = initialise_home(resolved, profile, demo_clinic=demo_clinic)
    print_init_report(report.home, report.created, report.database_before, report.database_after)
    if report.clinic is not None:
        typer.echo("demo clinic loaded: " + "; ".join(describe_summary(report.clinic)))


def print_init_report(home: object, created: list[str], before: str | None, after: str | None) -> None:
    """Print what ``init`` did, or that it changed nothing."""
    if not created and before == after:
        typer.echo(f"{home} is already initialised; nothing changed (database at {after}).")
        return
    for item in created:
        typer.echo(f"created {item}")
    if before is not None and before != after:
        typer.echo(f"database upgraded from {before} to {after}")
    typer.echo(f"home ready at {home} (database at {after})")


@db_app.command("upgrade")
def db_upgrade(home: HomeOption = None) -> None:
    """Apply every pending migration."""
    settings = load_settings(CommonSettings, home)
    configure_logging(settings.log_level)
    engine = db.make_engine(settings.effective_database_url)
    try:
        before, after = db.upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"database already at {after}; nothing to do")
    else:
        typer.echo(f"database upgraded from {before} to {after}")


@db_app.command("current")
def db_current(home: HomeOption = None) -> None:
    """Show the database's migration revision and the newest one available.

    Exits 1, creating nothing, when the SQLite database file does not exist.
    """
    settings = load_settings(CommonSettings, home)
    configure_logging(settings.log_level)
    engine = db.make_engine(settings.effective_database_url)
    database_file = db.sqlite_file(settings.effective_database_url)
    try:
        if database_file is not None and not database_file.exists():
            raise db.DatabaseUnavailable(
                f"no database at {database_file}; run `sealbook init --home {settings.home}` "
                "to create it, or check SEALBOOK_DATABASE_URL"
            )
        current = db.current_revision(engine)
    finally:
        engine.dispose()
    head = db.head_revision()
    if current == head:
        state = "up to date"
    elif db.is_known_revision(current):
        state = "behind; run: sealbook db upgrade"
    else:
        state = "unknown to this version of sealbook; do not upgrade with it"
    typer.echo(f"{current or 'empty'} (newest {head}; {state})")


@app.command()
def chat(
    phone: Annotated[str, typer.Option(help="The patient's mobile number, as they would text from it.")],
    home: HomeOption = None,
) -> None:
    """Talk to the booking bot from this terminal as the patient with this number."""
    settings = load_settings(FrontSettings, home)
    configure_logging(settings.log_level)
    console.run_console_chat(settings, phone, sys.stdin, sys.stdout)


@app.command()
def demo(home: HomeOption = None) -> None:
    """Set up a home and run the demo conversation (what `make demo` runs)."""
    resolved = resolve_home(home)
    # The demo is read by a person: service log lines would interleave with
    # the conversation, so they are shown only when asked for.
    settings_common = load_settings(CommonSettings, resolved)
    configure_logging(settings_common.log_level if os.environ.get("SEALBOOK_LOG_LEVEL") else "WARNING")
    report = initialise_home(resolved, demo_clinic=True)
    print_init_report(report.home, report.created, report.database_before, report.database_after)
    typer.echo(f"\nOne patient's journey as the demo patient {DEMO_PHONE}, then your turn.")
    settings = load_settings(FrontSettings, resolved)
    guided_demo.run_demo(settings, DEMO_PHONE, sys.stdin, sys.stdout, clock_from_env().now())


def main() -> None:
    """Entry point of the ``sealbook`` console script."""
    sys.exit(run_app(app, "sealbook"))
