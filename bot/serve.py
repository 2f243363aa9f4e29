"""The ``sealbook serve`` and ``sealbook telegram-poll`` commands: settings checked, front built, served."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
import uvicorn

from bot.app import check_channels, create_app, make_dispatcher
from bot.front import Front, build_front
from bot.telegram import TelegramChannel, make_bot
from bot.telegram_poll import poll_updates
from sealbook.cli_support import HomeOption
from sealbook.clock import clock_from_env
from sealbook.errors import ConfigError
from sealbook.logs import configure_logging, throttle_repeats
from sealbook.settings import FrontSettings, load_settings

logger = logging.getLogger(__name__)


def serve_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on; a TLS-terminating proxy forwards to it.")
    ] = ("127.0.0.1"),
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8080,
    home: HomeOption = None,
) -> None:
    """Run the webhook server: POST /telegram, POST /sms, GET /healthz and the waiting-room board."""
    settings = load_settings(FrontSettings, home)
    configure_logging(settings.log_level)
    check_channels(settings)
    front = build_front(settings, clock_from_env())
    app = create_app(
        settings,
        front.session_factory,
        front.clock,
        front.handler,
        clinic=front.clinic,
        extra_routes=front.extra_routes,
    )
    # uvicorn warns once per malformed request, so repeats are thinned out.
    throttle_repeats("uvicorn.error")
    # uvicorn's own logging set-up is skipped (log_config=None) so the
    # project's applies, and its access log is off because a request line
    # carries the board's secret path.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, server_header=False)
    front.close()


def telegram_poll_command(home: HomeOption = None) -> None:
    """Run the Telegram channel by long polling, for a machine that Telegram cannot reach."""
    settings = load_settings(FrontSettings, home)
    configure_logging(settings.log_level)
    if not settings.telegram_token:
        raise ConfigError("SEALBOOK_TELEGRAM_TOKEN is not set; long polling needs the bot token")
    front = build_front(settings, clock_from_env())
    try:
        asyncio.run(_poll(settings, front))
    finally:
        front.close()


async def _poll(settings: FrontSettings, front: Front) -> None:
    dispatcher = make_dispatcher(settings, front.session_factory, front.clock, front.handler, front.clinic)
    channel = TelegramChannel(make_bot(settings.telegram_token, settings.telegram_api_url), dispatcher)
    try:
        await poll_updates(channel)
    finally:
        await channel.shutdown()
