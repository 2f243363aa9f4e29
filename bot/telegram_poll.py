"""The Telegram channel by long polling (``getUpdates``), for a developer without a public URL."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram.error import Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.telegram import NOT_BOT_API_MESSAGE, TelegramChannel, is_not_bot_api
from sealbook.errors import SealbookError

logger = logging.getLogger(__name__)

# Update kinds the channel acts on; Telegram leaves the others out of getUpdates.
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_BACKOFF_SECONDS = 60.0


class PollingError(SealbookError):
    """Long polling cannot continue; the message gives the reason and the fix."""


async def poll_updates(
    channel: TelegramChannel,
    *,
    poll_seconds: int = 25,
    stop: asyncio.Event | None = None,
    max_rounds: int | None = None,
) -> int:
    """Fetch and handle updates until ``stop`` is set or ``max_rounds`` fetches are done.

    Returns how many updates were handled. An update is confirmed to
    Telegram (by the next ``offset``) only after it was handled, so updates
    that fail with a database error are fetched again. The once-only record keeps
    a re-fetched update from being acted on twice.
    """
    await channel.ensure_ready()
    offset: int | None = None
    backoff = 1.0
    rounds = 0
    handled = 0
    logger.info("Telegram long polling started")
    while (stop is None or not stop.is_set()) and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        try:
            # NOTE: python-telegram-bot logs the raw batch at CRITICAL if it
            # cannot parse it, which would carry chat ids and text; Telegram's
            # own updates parse, so this path is not expected to run.
            updates = await channel.bot.get_updates(
                offset=offset, timeout=poll_seconds, allowed_updates=ALLOWED_UPDATES
            )
        except RetryAfter as error:
            delay = error.retry_after
            wait = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            logger.warning("getUpdates rate-limited by Telegram; waiting %.0f s", wait)
            await asyncio.sleep(min(wait, MAX_BACKOFF_SECONDS))
            continue
        except NetworkError as error:
            logger.warning("getUpdates failed (%s); retrying in %.0f s", type(error).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            continue
        except TelegramError as error:
            raise _polling_error(error) from None
        backoff = 1.0

        for update in updates:
            try:
                await channel.handle_update(update)
            except SQLAlchemyError as error:
                # Only the class is logged, because the message can quote SQL.
                logger.error(
                    "update %d failed with a database error (%s); it will be fetched again",
                    update.update_id,
                    type(error).__name__,
                )
                logger.debug("traceback of the failure of update %d", update.update_id, exc_info=error)
                await asyncio.sleep(backoff)
                break
            offset = update.update_id + 1
            handled += 1
    logger.info("Telegram long polling stopped after %d updates", handled)
    return handled


def _polling_error(error: TelegramError) -> PollingError:
    """Return the error that stops polling for a getUpdates failure that a retry cannot fix."""
    if is_not_bot_api(error):
        return PollingError(NOT_BOT_API_MESSAGE)
    if isinstance(error, Conflict):
        return PollingError(
            "Telegram rejected getUpdates because a webhook is set for this bot; "
            "use `sealbook serve`, or remove the webhook with deleteWebhook first"
        )
    if isinstance(error, InvalidToken | Forbidden):
        return PollingError("Telegram rejected the bot token; check SEALBOOK_TELEGRAM_TOKEN")
    # The message can quote the request, so only the class is named.
    return PollingError(f"getUpdates failed ({type(error).__name__}); check SEALBOOK_TELEGRAM_API_URL")
