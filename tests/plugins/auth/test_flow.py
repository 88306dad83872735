"""The whole account lifecycle over HTTP, on SQLite and PostgreSQL, with a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import re
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from auth_helpers import PASSWORD, bearer, fast_auth

from support import free_port


class Collector:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, collector
    controller.stop()


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


async def test_register_verify_login_refresh_logout(
    aiohttp_client, make_app, records_overrides, smtp_server
):
    controller, collector = smtp_server
    mail = {
        "backend": "smtp",
        "sender": "Registry <registry@example.org>",
        "smtp": {"host": "127.0.0.1", "port": controller.port, "security": "none"},
    }
    client = await aiohttp_client(
        make_app(
            fast_auth(storage=records_overrides, plugins={"auth": {"bcrypt_cost": 4}, "mail": mail})
        )
    )

    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
    )
    assert registered.status == 201
    user = await registered.json()
    assert user["is_verified"] is False
    assert "password" not in user and "password_hash" not in user

    for _ in range(200):  # the verification mail is sent in the background
        if collector.messages:
            break
        await asyncio.sleep(0.02)
    [mail_message] = collector.messages
    assert mail_message["To"] == "ada@example.org"
    token = re.search(r"verify-email#token=([\w-]+)", text_part(mail_message)).group(1)
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status == 200
    assert (await verified.json())["is_verified"] is True
    assert (await client.post("/api/v1/auth/verify-email", json={"token": token})).status == 404

    pair = await (
        await client.post(
            "/api/v1/auth/login", json={"email": "ADA@example.org", "password": PASSWORD}
        )
    ).json()
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 900

    me = await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
    assert me.status == 200
    assert (await me.json())["username"] == "ada"

    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status == 200
    new_pair = await refreshed.json()
    assert new_pair["refresh_token"] != pair["refresh_token"]

    logout = await client.post("/api/v1/auth/logout", headers=bearer(new_pair["access_token"]))
    assert logout.status == 204
    # The token from before the refresh belongs to the same, now ended, session.
    assert (await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))).status == 401
    after = await client.get("/api/v1/auth/me", headers=bearer(new_pair["access_token"]))
    assert after.status == 401
    assert (await after.json())["error"] == "invalid_credentials"
    # The session is over: its refresh token is dead too.
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": new_pair["refresh_token"]}
    )
    assert again.status == 401
