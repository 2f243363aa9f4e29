"""A loopback SMTP server (aiosmtpd) that records messages and rejects chosen recipients.

`serve_smtp` runs it in plain, STARTTLS or implicit-TLS mode. `make_certificates`
writes a private certificate authority and a server certificate for 127.0.0.1 that a
client can be configured to trust. `aiosmtpd` is a development dependency, so this module
is only for tests, benchmarks and simulations.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sealbook.standins.server import LOOPBACK_HOST


class SmtpMode(enum.Enum):
    """Protection of the stand-in's connections."""

    PLAIN = "plain"
    STARTTLS = "starttls"  # offers STARTTLS and requires it before MAIL
    IMPLICIT_TLS = "implicit_tls"


@dataclass(frozen=True)
class CertificateFiles:
    """PEM files of a private CA, and of a server certificate and key signed by it."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """Return a server-side TLS context that presents the server certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that stores each accepted message and refuses chosen recipients.

    `refusals` maps a recipient address to the SMTP reply it gets, such as
    `550 5.1.1 Mailbox does not exist`.
    """

    received: list[Envelope] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.refusals.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.received.append(envelope)
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpServer:
    """A running SMTP stand-in: its handler, host and port."""

    handler: RecordingHandler
    host: str
    port: int


@contextlib.contextmanager
def serve_smtp(
    mode: SmtpMode = SmtpMode.PLAIN, certificates: CertificateFiles | None = None
) -> Iterator[SmtpServer]:
    """Run an SMTP stand-in on 127.0.0.1 for the duration of the block."""
    if mode is not SmtpMode.PLAIN and certificates is None:
        raise ValueError(f"SMTP mode {mode.value} needs certificates; see make_certificates")
    handler = RecordingHandler()
    port = free_loopback_port()
    if mode is SmtpMode.STARTTLS:
        assert certificates is not None
        controller = Controller(
            handler,
            hostname=LOOPBACK_HOST,
            port=port,
            tls_context=certificates.server_context(),
            require_starttls=True,
        )
    elif mode is SmtpMode.IMPLICIT_TLS:
        assert certificates is not None
        controller = Controller(
            handler, hostname=LOOPBACK_HOST, port=port, ssl_context=certificates.server_context()
        )
    else:
        controller = Controller(handler, hostname=LOOPBACK_HOST, port=port)
    controller.start()
    try:
        yield SmtpServer(handler, LOOPBACK_HOST, port)
    finally:
        controller.stop()


def free_loopback_port() -> int:
    """Return a loopback TCP port that was free a moment ago.

    aiosmtpd's controller connects to its own port to check it started, so it cannot
    be given port 0; a port freed here can in principle be taken before it is used.
    """
    with socket.socket() as probe:
        probe.bind((LOOPBACK_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def make_certificates(folder: Path, *, now: dt.datetime) -> CertificateFiles:
    """Write a CA and a server certificate for 127.0.0.1 and localhost, valid 30 days from `now`."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealbook stand-in CA")])
    ca_cert = (
        _validity(x509.CertificateBuilder(), now)
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK_HOST))]
    server_cert = (
        _validity(x509.CertificateBuilder(), now)
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK_HOST)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .add_extension(x509.SubjectAlternativeName(server_names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    files = CertificateFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.touch(mode=0o600)
    files.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _validity(builder: x509.CertificateBuilder, now: dt.datetime) -> x509.CertificateBuilder:
    return (
        builder.serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
