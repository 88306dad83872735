"""The pages mailed links open, driven in a real browser: verify an email, reset a password."""

from __future__ import annotations

import asyncio
import re

import pytest

from agentvault_registry.plugins.mail.appkeys import MAILER

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple 42"
FAST = {"plugins": {"auth": {"bcrypt_cost": 4}}}


async def latest_link(app, path: str) -> str:
    for _ in range(200):
        for message in reversed(app[MAILER].outbox):
            match = re.search(rf"(http://\S+/{path}#token=[\w-]+)", message.text)
            if match:
                return match.group(1)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no mail with a {path} link")


@pytest.fixture
async def registry(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(FAST))
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "ada@example.org", "username": "ada", "password": PASSWORD},
    )
    assert response.status == 201
    return client


async def test_the_verification_link_verifies_the_address(registry, browser_page):
    link = await latest_link(registry.app, "verify-email")
    await browser_page.goto(link)
    status = browser_page.locator("#status.ok")
    await status.wait_for(timeout=10_000)
    assert "your email address is verified" in await status.inner_text()
    pair = await (
        await registry.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    ).json()
    me = await registry.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert (await me.json())["is_verified"] is True


async def test_a_used_verification_link_says_so(registry, browser_page):
    link = await latest_link(registry.app, "verify-email")
    await browser_page.goto(link)
    await browser_page.locator("#status.ok").wait_for(timeout=10_000)
    await browser_page.goto("about:blank")
    await browser_page.goto(link)
    error = browser_page.locator("#status.error")
    await error.wait_for(timeout=10_000)
    assert "unknown, used or expired" in await error.inner_text()


async def test_the_reset_link_sets_a_new_password(registry, browser_page):
    await registry.post("/api/v1/auth/recover", json={"email": "ada@example.org"})
    link = await latest_link(registry.app, "reset-password")
    await browser_page.goto(link)
    await browser_page.fill("#new_password", "too short")
    await browser_page.fill("#confirm_password", "too short")
    await browser_page.click("button[type=submit]")
    # The browser refuses it first (minlength); nothing was sent.
    assert await browser_page.locator("#status").inner_text() == ""

    await browser_page.fill("#new_password", "password1234")
    await browser_page.fill("#confirm_password", "password1234")
    await browser_page.click("button[type=submit]")
    error = browser_page.locator("#status.error")
    await error.wait_for(timeout=10_000)
    assert "too common" in await error.inner_text()

    await browser_page.fill("#new_password", "a fresh passphrase 2026")
    await browser_page.fill("#confirm_password", "a fresh passphrase 2026")
    await browser_page.click("button[type=submit]")
    done = browser_page.locator("#status.ok")
    await done.wait_for(timeout=10_000)
    assert "password is changed" in await done.inner_text()
    login = await registry.post(
        "/api/v1/auth/login", json={"username": "ada", "password": "a fresh passphrase 2026"}
    )
    assert login.status == 200


async def test_a_link_without_its_token_explains_itself(registry, browser_page):
    await browser_page.goto(str(registry.make_url("/reset-password")))
    error = browser_page.locator("#status.error")
    await error.wait_for(timeout=10_000)
    assert "no reset token" in await error.inner_text()
    assert await browser_page.locator("#reset-form").is_hidden()
