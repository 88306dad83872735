"""The mail plugin: the mailer other plugins use to send verification and reset messages.

Other plugins render a message with :func:`~.templates.render_message` and send it with
``await app[MAILER].send(message)``; a mail server that cannot be reached raises
:class:`~agentvault_registry.core.errors.BackendError` (503 with Retry-After).

The default ``console`` backend sends nothing: it logs the recipient and subject of each
message and keeps the latest ones in memory. ``smtp`` delivers through a mail server; it opens
a connection per message, so there is nothing to close at shutdown. It adds no readiness check:
a mail outage affects only the requests that send mail, not the rest of the registry.

Configuration::

    [plugins.mail]
    backend = "smtp"                      # "console" (default) or "smtp"
    sender = "AgentVault Registry <noreply@registry.example.org>"

    [plugins.mail.smtp]                   # only with backend = "smtp"
    host = "smtp.example.org"             # default "localhost"
    port = 587                            # default 587
    security = "starttls"                 # "starttls" (default), "tls" or "none"
    username = "registry"                 # optional; set together with password
    password = { env = "SMTP_PASSWORD" }  # or inline, or { file = "/run/secrets/smtp" }
    timeout = 10.0                        # seconds, default 10
"""

from __future__ import annotations

import logging

from aiohttp import web

from agentvault_registry.core.appkeys import SETTINGS
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.plugins.mail.appkeys import MAILER
from agentvault_registry.plugins.mail.mailer import mailer_from_options
from agentvault_registry.plugins.mail.schemas import MailOptions

log = logging.getLogger(__name__)


@hookimpl
def register_config_schema() -> type[MailOptions]:
    return MailOptions


# tryfirst: plugins that send mail pick the mailer up in their own startup.
@hookimpl(tryfirst=True)
def startup(app: web.Application) -> None:
    settings = app[SETTINGS]
    mailer = mailer_from_options(settings.plugin_config("mail"), settings.data_dir / "outbox")
    app[MAILER] = mailer
    log.info("mail: %s", mailer.describe())
