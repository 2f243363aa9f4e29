"""The webhook server: one Starlette app with ``POST /telegram``, ``POST /sms`` and ``GET /healthz``."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Bot

from bot._http import RejectionLog, guard_webhook
from bot.dispatch import ClinicInfo, Dispatcher
from bot.handler import MessageHandler
from bot.sms import SmsWebhook
from bot.telegram import TelegramChannel, make_bot
from bot.telegram_webhook import TelegramWebhook
from sealbook.clock import Clock
from sealbook.errors import ConfigError
from sealbook.settings import FrontSettings

logger = logging.getLogger(__name__)

# The routes the server mounts. SEALBOOK_PUBLIC_URL is their base, so it must not end in one.
WEBHOOK_ROUTES = ("/sms", "/telegram")
# Telegram's setWebhook accepts a secret_token of 1 to 256 characters from these.
TELEGRAM_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class EnabledChannels:
    """The channels the settings enable; ``check_channels`` made sure each one has its secret."""

    sms: bool
    telegram: bool

    @property
    def names(self) -> list[str]:
        return [name for name, enabled in (("sms", self.sms), ("telegram", self.telegram)) if enabled]


def check_channels(settings: FrontSettings) -> EnabledChannels:
    """Return the enabled channels, or raise ``ConfigError`` naming the missing or invalid setting.

    SMS is enabled by ``SEALBOOK_TWILIO_AUTH_TOKEN`` and needs
    ``SEALBOOK_PUBLIC_URL`` (the URL Twilio signs); Telegram is enabled by
    ``SEALBOOK_TELEGRAM_TOKEN`` and needs ``SEALBOOK_TELEGRAM_SECRET``. A
    public URL is checked whenever it is set, because the Telegram webhook
    is registered under it too.
    """
    sms = bool(settings.twilio_auth_token)
    telegram = bool(settings.telegram_token)
    if sms and not settings.public_url:
        raise ConfigError(
            "SMS is enabled by SEALBOOK_TWILIO_AUTH_TOKEN but SEALBOOK_PUBLIC_URL is not set; "
            "set it to the https:// base URL that Twilio calls"
        )
    if settings.public_url:
        check_public_url(settings.public_url)
    if telegram and not settings.telegram_secret:
        raise ConfigError(
            "Telegram is enabled by SEALBOOK_TELEGRAM_TOKEN but SEALBOOK_TELEGRAM_SECRET is not set; "
            "set it to the secret_token given to setWebhook"
        )
    if telegram and not TELEGRAM_SECRET_PATTERN.fullmatch(settings.telegram_secret):
        raise ConfigError(
            "SEALBOOK_TELEGRAM_SECRET must be 1 to 256 characters from A-Z, a-z, 0-9, _ and -, "
            "because setWebhook rejects any other secret_token; make one with: "
            'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    if not sms and not telegram:
        raise ConfigError(
            "no channel is enabled; set SEALBOOK_TWILIO_AUTH_TOKEN and SEALBOOK_PUBLIC_URL for SMS, "
            "or SEALBOOK_TELEGRAM_TOKEN and SEALBOOK_TELEGRAM_SECRET for Telegram"
        )
    return EnabledChannels(sms=sms, telegram=telegram)


def check_public_url(public_url: str) -> None:
    """Raise ``ConfigError`` unless ``public_url`` is an http(s) base URL that the routes can be appended to.

    The value itself stays out of the message, because a URL can carry a
    user name and password.
    """
    example = "such as https://book.example.org or https://example.org/sealbook"
    try:
        parts = urlsplit(public_url)
        parts.port  # noqa: B018 - a port that is not a number from 0 to 65535 raises here
    except ValueError:
        raise ConfigError(
            f"SEALBOOK_PUBLIC_URL is not a valid URL; set the base URL that Twilio calls, {example}"
        ) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"SEALBOOK_PUBLIC_URL must be an absolute URL {example} "
            "(the base of the URL that Twilio calls and signs)"
        )
    if parts.query or parts.fragment or "?" in public_url or "#" in public_url:
        raise ConfigError(
            f"SEALBOOK_PUBLIC_URL must have no query string or fragment; set the base URL only, {example}"
        )
    path = parts.path.rstrip("/").lower()
    for route in WEBHOOK_ROUTES:
        if path.endswith(route):
            raise ConfigError(
                f"SEALBOOK_PUBLIC_URL ends in {route}, but the server appends /sms and /telegram itself; "
                f"remove {route} from its end"
            )


def make_dispatcher(
    settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: Clock,
    handler: MessageHandler,
    clinic: ClinicInfo,
) -> Dispatcher:
    """Return the dispatcher every channel of this process shares."""
    if settings.messages_per_minute < 1:
        raise ConfigError("SEALBOOK_MESSAGES_PER_MINUTE must be at least 1")
    return Dispatcher(
        session_factory, clock, handler, clinic=clinic, messages_per_minute=settings.messages_per_minute
    )


def create_app(
    settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: Clock,
    handler: MessageHandler,
    *,
    clinic: ClinicInfo,
    extra_routes: Sequence[BaseRoute] = (),
    telegram_bot: Bot | None = None,
) -> Starlette:
    """Build the webhook app for the channels the settings enable.

    ``extra_routes`` are mounted beside the webhooks (the waiting-room
    board). ``telegram_bot`` replaces the client built from the settings.
    The route of a channel that is not enabled returns 404.
    """
    enabled = check_channels(settings)
    dispatcher = make_dispatcher(settings, session_factory, clock, handler, clinic)
    rejections = RejectionLog()
    routes: list[BaseRoute] = [Route("/healthz", _health_endpoint(session_factory), methods=["GET"])]

    if enabled.sms:
        sms = SmsWebhook(
            auth_token=settings.twilio_auth_token,
            public_url=settings.public_url,
            dispatcher=dispatcher,
            rejections=rejections,
        )
        routes.append(Route("/sms", guard_webhook("sms", sms.handle), methods=["POST"]))

    channel: TelegramChannel | None = None
    if enabled.telegram:
        bot = telegram_bot or make_bot(settings.telegram_token, settings.telegram_api_url)
        channel = TelegramChannel(bot, dispatcher)
        webhook = TelegramWebhook(secret=settings.telegram_secret, channel=channel, rejections=rejections)
        routes.append(Route("/telegram", guard_webhook("telegram", webhook.handle), methods=["POST"]))

    routes.extend(extra_routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        logger.info("webhook server starting with channels: %s", ", ".join(enabled.names))
        yield
        if channel is not None:
            await channel.shutdown()
        logger.info("webhook server stopped")

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.rejections = rejections
    app.state.telegram_channel = channel
    return app


def _health_endpoint(session_factory: sessionmaker[Session]) -> Callable[[Request], Awaitable[Response]]:
    async def health(_request: Request) -> Response:
        """Return 200 when a query on the database succeeds, 503 otherwise."""
        try:
            await run_in_threadpool(_ping, session_factory)
        except SQLAlchemyError as error:
            logger.error("health check failed: database unavailable (%s)", type(error).__name__)
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return health


def _ping(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        session.execute(text("SELECT 1"))
