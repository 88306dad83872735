"""Mailers: the console one for development, SMTP for real delivery.

Message bodies carry secret tokens (verification and reset links), so nothing here ever logs
a body; logs name the recipient and the subject only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib

from agentvault_registry.config.secrets import Secret
from agentvault_registry.core.errors import BackendError

log = logging.getLogger(__name__)

#: How many sent messages the console mailer keeps for tests and the dev CLI to read.
OUTBOX_SIZE = 50


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str | None = None


class Mailer(ABC):
    def __init__(self, sender: str) -> None:
        self.sender = sender

    def build_email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain=parseaddr(self.sender)[1].rpartition("@")[2])
        email.set_content(message.text)
        if message.html is not None:
            email.add_alternative(message.html, subtype="html")
        return email

    @abstractmethod
    async def send(self, message: Message) -> None:
        """Deliver ``message``; raise :class:`BackendError` when that is not possible now."""

    @abstractmethod
    def describe(self) -> str:
        """One line for the startup log, without secrets."""


class ConsoleMailer(Mailer):
    """Logs that a message was sent, keeps the latest ones in ``outbox`` and, given a
    directory, saves each as an ``.eml`` file there: how a developer gets at the links."""

    def __init__(self, sender: str, directory: Path | None = None) -> None:
        super().__init__(sender)
        self.outbox: deque[Message] = deque(maxlen=OUTBOX_SIZE)
        self.directory = directory

    async def send(self, message: Message) -> None:
        self.outbox.append(message)
        saved = ""
        if self.directory is not None:
            path = await asyncio.to_thread(self._save, message)
            saved = f"; saved as {path}"
        log.info("mail (console, not sent) to %s: %s%s", message.to, message.subject, saved)

    def _save(self, message: Message) -> Path:
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        # The body holds secret links: readable by the registry's user only.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(bytes(self.build_email(message)))
        return path

    def describe(self) -> str:
        where = f", saved under {self.directory}" if self.directory else ""
        return f"console (messages are logged, not sent{where})"


class SmtpMailer(Mailer):
    """Sends each message over its own SMTP connection (mail here is rare and transactional)."""

    def __init__(
        self,
        sender: str,
        *,
        host: str,
        port: int,
        security: str,
        username: str | None = None,
        password: Secret | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(sender)
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout

    async def send(self, message: Message) -> None:
        try:
            await aiosmtplib.send(
                self.build_email(message),
                hostname=self.host,
                port=self.port,
                use_tls=self.security == "tls",
                # False, not aiosmtplib's default None: "none" must never upgrade on its own.
                start_tls=self.security == "starttls",
                username=self.username,
                password=self.password.reveal() if self.password else None,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise BackendError("The mail server is unavailable.", backend="smtp") from exc
        log.info("mail sent to %s: %s", message.to, message.subject)

    def describe(self) -> str:
        login = f", login as {self.username}" if self.username else ""
        return f"smtp {self.host}:{self.port} ({self.security}{login})"


def mailer_from_options(options: Mapping[str, Any], outbox_dir: Path | None = None) -> Mailer:
    """Build the mailer options validated by :class:`~.schemas.MailOptions` select; the
    console mailer saves messages under ``outbox_dir``."""
    if options["backend"] == "smtp":
        return SmtpMailer(options["sender"], **options["smtp"])
    return ConsoleMailer(options["sender"], outbox_dir)
