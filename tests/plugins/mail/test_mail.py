"""The mail plugin: console and SMTP mailers, templates, configuration."""

from __future__ import annotations

import logging
import stat
from email import message_from_bytes, policy

import jinja2
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agentvault_registry.config.secrets import Secret
from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.plugins.mail.appkeys import MAILER
from agentvault_registry.plugins.mail.mailer import (
    OUTBOX_SIZE,
    ConsoleMailer,
    Message,
    SmtpMailer,
)
from agentvault_registry.plugins.mail.templates import render_message
from support import free_port

SENDER = "AgentVault Registry <noreply@registry.test>"
TOKEN = "tok-7f3a9c1e5b2d-do-not-log"


def verification(to: str = "alice@example.com", username: str = "alice") -> Message:
    return render_message(
        "verify_email",
        to=to,
        username=username,
        verify_url=f"https://registry.test/verify?token={TOKEN}",
        token=TOKEN,
        expires_hours=24,
    )


class CollectingHandler:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on loopback, in aiosmtpd's own thread."""

    def __init__(self, **smtp_options) -> None:
        self.handler = CollectingHandler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **smtp_options
        )

    def mailer(self, **options) -> SmtpMailer:
        return SmtpMailer(
            SENDER, host="127.0.0.1", port=self.port, security="none", timeout=5.0, **options
        )

    def received(self):
        return [
            (envelope, message_from_bytes(envelope.content, policy=policy.default))
            for envelope in self.handler.envelopes
        ]


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


# ----------------------------------------------------------------------- console mailer


async def test_console_mailer_keeps_messages_and_logs_no_body(caplog):
    mailer = ConsoleMailer(SENDER)
    message = verification()
    with caplog.at_level(logging.INFO, logger="agentvault_registry.plugins.mail"):
        await mailer.send(message)
    assert list(mailer.outbox) == [message]
    assert "alice@example.com" in caplog.text
    assert message.subject in caplog.text
    assert TOKEN not in caplog.text


async def test_console_outbox_keeps_only_the_latest_messages():
    mailer = ConsoleMailer(SENDER)
    for number in range(OUTBOX_SIZE + 5):
        await mailer.send(Message(to=f"u{number}@example.com", subject="s", text="t"))
    assert len(mailer.outbox) == OUTBOX_SIZE
    assert mailer.outbox[0].to == "u5@example.com"


# ---------------------------------------------------------------------------- templates


def test_verify_email_renders_subject_text_and_html():
    message = verification()
    assert message.to == "alice@example.com"
    assert message.subject == "Verify your email address for AgentVault Registry"
    assert not message.text.startswith("Subject:")
    for part in (message.text, message.html):
        assert "Hello alice," in part
        assert TOKEN in part
        assert "24 hours" in part
    assert f"https://registry.test/verify?token={TOKEN}" in message.text
    assert f'href="https://registry.test/verify?token={TOKEN}"' in message.html
    assert f"<title>{message.subject}</title>" in message.html


def test_password_reset_renders_both_parts():
    message = render_message(
        "password_reset",
        to="bob@example.com",
        username="bob",
        reset_url="https://registry.test/reset?token=r1",
        token="r1",
        expires_minutes=30,
    )
    assert message.subject == "Reset your AgentVault Registry password"
    for part in (message.text, message.html):
        assert "Hello bob," in part
        assert "30 minutes" in part
        assert "https://registry.test/reset?token=r1" in part


def test_html_escapes_user_values_and_text_shows_them_as_written():
    message = verification(username="<script>alert(1)</script>")
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "Hello <script>alert(1)</script>," in message.text


def test_a_missing_template_variable_fails_instead_of_rendering_blank():
    with pytest.raises(jinja2.UndefinedError, match="token"):
        render_message(
            "verify_email", to="a@example.com", username="a", verify_url="u", expires_hours=1
        )


# --------------------------------------------------------------------------------- smtp


async def test_smtp_delivers_text_and_html_alternatives(smtp_server):
    await smtp_server.mailer().send(verification())
    [(envelope, received)] = smtp_server.received()
    assert envelope.mail_from == "noreply@registry.test"
    assert envelope.rcpt_tos == ["alice@example.com"]
    assert received["Subject"] == "Verify your email address for AgentVault Registry"
    assert received["From"] == SENDER
    assert received["To"] == "alice@example.com"
    assert received["Message-ID"].endswith("@registry.test>")
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert TOKEN in text
    assert f'href="https://registry.test/verify?token={TOKEN}"' in html


async def test_smtp_logs_in_when_a_username_is_set():
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    server = SmtpServer(authenticator=authenticator, auth_require_tls=False)
    server.controller.start()
    try:
        await server.mailer(username="registry", password=Secret("hunter2")).send(verification())
    finally:
        server.controller.stop()
    assert logins == [(b"registry", b"hunter2")]
    assert len(server.received()) == 1


async def test_smtp_server_down_is_a_backend_error():
    mailer = SmtpMailer(SENDER, host="127.0.0.1", port=free_port(), security="none", timeout=5.0)
    with pytest.raises(BackendError) as caught:
        await mailer.send(verification())
    assert caught.value.status == 503
    assert caught.value.details == {"backend": "smtp"}
    assert "Retry-After" in caught.value.headers


# ------------------------------------------------------------------------ configuration


async def test_the_default_app_has_a_console_mailer(client):
    assert isinstance(client.app[MAILER], ConsoleMailer)


async def test_an_smtp_configured_app_has_an_smtp_mailer(aiohttp_client, make_app, smtp_server):
    smtp = {"host": "127.0.0.1", "port": smtp_server.port, "security": "none", "timeout": 3}
    app = make_app({"plugins": {"mail": {"backend": "smtp", "sender": SENDER, "smtp": smtp}}})
    client = await aiohttp_client(app)
    mailer = client.app[MAILER]
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.security, mailer.timeout) == (
        "127.0.0.1",
        smtp_server.port,
        "none",
        3.0,
    )
    await mailer.send(verification())
    assert len(smtp_server.received()) == 1


def test_smtp_options_have_defaults(make_settings):
    settings, _ = make_settings({"plugins": {"mail": {"backend": "smtp"}}})
    options = settings.plugin_config("mail")
    assert options["sender"] == "AgentVault Registry <noreply@localhost>"
    assert options["smtp"] == {
        "host": "localhost",
        "port": 587,
        "security": "starttls",
        "username": None,
        "password": None,
        "timeout": 10.0,
    }


def test_an_smtp_password_is_a_secret(make_settings):
    smtp = {"username": "registry", "password": {"env": "SMTP_PASSWORD"}}
    settings, _ = make_settings(
        {"plugins": {"mail": {"backend": "smtp", "smtp": smtp}}},
        environ={"SMTP_PASSWORD": "hunter2"},
    )
    password = settings.plugin_config("mail")["smtp"]["password"]
    assert password == Secret("hunter2")
    assert "hunter2" not in repr(password)


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ({"bogus": 1}, "plugins.mail.bogus"),
        ({"backend": "pigeon"}, "plugins.mail.backend"),
        ({"sender": "not an address"}, "plugins.mail.sender"),
        ({"sender": "a@example.com\r\nBcc: x@example.com"}, "plugins.mail.sender"),
        ({"backend": "smtp", "smtp": {"port": "smtp"}}, "plugins.mail.smtp.port"),
        ({"backend": "smtp", "smtp": {"port": 70000}}, "plugins.mail.smtp.port"),
        ({"backend": "smtp", "smtp": {"security": "ssl"}}, "plugins.mail.smtp.security"),
        ({"backend": "smtp", "smtp": {"hostname": "x"}}, "plugins.mail.smtp.hostname"),
        ({"backend": "smtp", "smtp": {"username": "u"}}, "plugins.mail.smtp.username"),
        ({"backend": "smtp", "smtp": {"password": "p"}}, "plugins.mail.smtp.password"),
        ({"smtp": {"host": "mail.example.org"}}, "plugins.mail.smtp"),
    ],
)
def test_invalid_options_are_config_errors_naming_the_key(make_settings, section, where):
    with pytest.raises(ConfigError) as caught:
        make_settings({"plugins": {"mail": section}})
    # Problems read "<key> (from <source>): <message>"; a whole table has no source.
    keys = [problem.partition(" (from ")[0].partition(":")[0] for problem in caught.value.problems]
    assert where in keys, caught.value.problems


async def test_the_console_mailer_saves_each_message_privately(tmp_path):
    mailer = ConsoleMailer("Registry <registry@example.org>", tmp_path / "outbox")
    await mailer.send(
        Message(to="ada@example.org", subject="Hi", text="token XYZ", html="<b>XYZ</b>")
    )
    [saved] = (tmp_path / "outbox").iterdir()
    assert saved.suffix == ".eml"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    parsed = message_from_bytes(saved.read_bytes())
    assert parsed["To"] == "ada@example.org"
    assert "token XYZ" in saved.read_text()
