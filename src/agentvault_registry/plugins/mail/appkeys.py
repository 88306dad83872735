"""State the mail plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.mail.mailer import Mailer

#: The configured mailer; plugins that send mail call ``await app[MAILER].send(message)``.
MAILER = web.AppKey("mailer", Mailer)
