"""E-mail sender: `aiosmtplib` over STARTTLS, implicit TLS or plain SMTP, with calendar files."""

from __future__ import annotations

import enum
import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import aiosmtplib

from relay.channels.base import ChannelKind, DeliveryError, OutgoingMessage
from sealbook.clock import Clock

logger = logging.getLogger(__name__)

# Reply codes for a recipient that does not exist or may not receive mail (RFC 5321,
# section 4.2.3): 550 mailbox unavailable, 551 user not local, 553 mailbox name not allowed.
_MAILBOX_UNAVAILABLE_CODES = frozenset({550, 551, 553})


class SmtpSecurity(enum.StrEnum):
    """Protection of the SMTP connection."""

    STARTTLS = "starttls"  # plain connect, then STARTTLS, usually port 587
    TLS = "tls"  # TLS from the first byte ("implicit TLS"), usually port 465
    NONE = "none"  # no TLS: only for a relay on the same host or a test server


@dataclass(frozen=True)
class EmailSettings:
    """SMTP server, security, optional login, sender address and timeout.

    `ca_file` replaces the system's trusted certificates, for a private mail server
    or a test server with its own certificate authority.
    """

    host: str
    port: int
    from_address: str
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = None
    from_name: str = ""
    timeout_seconds: float = 30.0
    ca_file: str | None = None

    def __repr__(self) -> str:
        return (
            f"EmailSettings(host={self.host!r}, port={self.port}, "
            f"security={self.security.value!r}, credentials=<hidden>)"
        )


class EmailSender:
    """Send each notice as one message over a fresh SMTP connection."""

    def __init__(self, settings: EmailSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._tls_context: ssl.SSLContext | None = None
        if settings.ca_file is not None:
            self._tls_context = ssl.create_default_context(cafile=settings.ca_file)
        self._domain = settings.from_address.rpartition("@")[2] or "localhost"

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.EMAIL

    async def start(self) -> None:
        logger.info("email sender started (security %s)", self._settings.security.value)

    def compose(self, address: str, message: OutgoingMessage) -> EmailMessage:
        """Build the MIME message: a text body, and the calendar file as an attachment."""
        mail = EmailMessage()
        mail["From"] = formataddr((self._settings.from_name, self._settings.from_address))
        mail["To"] = address
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(self._clock.now())
        mail["Message-ID"] = make_msgid(domain=self._domain)
        mail.set_content(message.text)
        if message.calendar is not None:
            # `method` on the part lets mail clients treat it as an iTIP invitation
            # (RFC 6047) rather than an opaque file.
            mail.add_attachment(
                message.calendar.content,
                maintype="text",
                subtype="calendar",
                filename=message.calendar.filename,
                params={"method": message.calendar.method, "charset": "utf-8"},
            )
        return mail

    async def send(self, address: str, message: OutgoingMessage) -> None:
        """Send `message` to the e-mail address `address`."""
        settings = self._settings
        mail = self.compose(address, message)
        try:
            await aiosmtplib.send(
                mail,
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password,
                use_tls=settings.security is SmtpSecurity.TLS,
                start_tls=settings.security is SmtpSecurity.STARTTLS,
                tls_context=self._tls_context,
                timeout=settings.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise classify_smtp_error(exc) from exc

    async def close(self) -> None:
        return None


def classify_smtp_error(exc: aiosmtplib.SMTPException | OSError) -> DeliveryError:
    """Map an `aiosmtplib` (5.x) or socket error to a delivery failure class, by reply code."""
    kind = ChannelKind.EMAIL
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        if any(code in _MAILBOX_UNAVAILABLE_CODES for code in codes):
            return DeliveryError(kind, "email.mailbox_unavailable", permanent=True)
        if any(500 <= code < 600 for code in codes):
            return DeliveryError(kind, "email.recipient_rejected", permanent=True)
        return DeliveryError(kind, "email.deferred", permanent=False)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # Wrong credentials fail every notice alike; a retry after a fix delivers them.
        return DeliveryError(kind, "email.auth_failed", permanent=False)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        # The server refuses our own From address: a setting to fix, not the patient's fault.
        return DeliveryError(kind, "email.sender_refused", permanent=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 500 <= exc.code < 600:
            return DeliveryError(kind, "email.rejected", permanent=True)
        return DeliveryError(kind, "email.deferred", permanent=False)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return DeliveryError(kind, "email.timeout", permanent=False)
    if isinstance(exc, ssl.SSLError):
        return DeliveryError(kind, "email.tls_failed", permanent=False)
    if isinstance(exc, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError)):
        return DeliveryError(kind, "email.network", permanent=False)
    return DeliveryError(kind, "email.error", permanent=False)
