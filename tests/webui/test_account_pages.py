"""Signing up, verifying, signing in and resetting a password in the browser, with the mail
caught by a real SMTP server."""

from __future__ import annotations

import pytest
from webui_harness import sign_in, wait_for_link

from registry_harness import PASSWORD

pytestmark = pytest.mark.browser


async def register_in_browser(probe, registry, username: str) -> None:
    page = probe.page
    await page.goto(f"{registry.url}/ui/register")
    await page.get_by_label("Email").fill(f"{username}@example.org")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("heading", name="Check your mail").wait_for()


async def test_the_mailed_link_verifies_the_new_account(probe, ui_registry, inbox):
    probe.expect(401, r"/api/v1/auth/me$")
    await register_in_browser(probe, ui_registry, "ada")
    link = await wait_for_link(inbox, "verify-email", "ada@example.org")
    await probe.page.goto(link)
    await probe.page.get_by_text("your email address is verified").wait_for()

    await sign_in(probe, ui_registry, "ada")
    me = await probe.page.evaluate("fetch('/api/v1/auth/me').then((r) => r.status)")
    assert me == 401, "the access token lives in memory only, never in a cookie"


async def test_registration_errors_appear_beside_their_fields(probe, ui_registry):
    probe.expect(422, r"/api/v1/auth/register$")
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/register")
    await page.get_by_label("Email").fill("bob@example.org")
    await page.get_by_label("Username").fill("bob")
    await page.get_by_label("Password").fill("password1234")
    await page.get_by_role("button", name="Create account").click()
    password = page.get_by_label("Password")
    await page.locator("input[name=password].is-invalid").wait_for()
    feedback = page.locator(f"#{await password.get_attribute('id')}-feedback")
    assert "common" in (await feedback.inner_text()).lower()


async def test_a_used_verification_link_says_so(probe, ui_registry, inbox):
    probe.expect(404, r"/api/v1/auth/verify-email$")
    await register_in_browser(probe, ui_registry, "cyd")
    link = await wait_for_link(inbox, "verify-email", "cyd@example.org")
    await probe.page.goto(link)
    await probe.page.get_by_text("your email address is verified").wait_for()
    await probe.page.goto("about:blank")
    await probe.page.goto(link)
    outcome = probe.page.locator("[data-outcome=danger]")
    await outcome.wait_for()
    assert "unknown, used or expired" in await outcome.inner_text()


async def test_a_link_without_a_token_explains_itself(probe, ui_registry):
    await probe.page.goto(f"{ui_registry.url}/reset-password")
    await probe.page.get_by_text("This link has no reset token").wait_for()


async def test_the_reset_link_sets_a_new_password(probe, ui_registry, inbox):
    probe.expect(422, r"/api/v1/auth/recover/confirm$")
    await ui_registry.account("dee")
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/recover")
    await page.get_by_label("Email").fill("dee@example.org")
    await page.get_by_role("button", name="Mail me a link").click()
    await page.get_by_role("heading", name="Check your mail").wait_for()
    link = await wait_for_link(inbox, "reset-password", "dee@example.org")

    await page.goto(link)
    await page.get_by_label("New password", exact=True).fill("password1234")
    await page.get_by_label("Repeat it").fill("password1234")
    await page.get_by_role("button", name="Set password").click()
    await page.locator("input[name=new_password].is-invalid").wait_for()

    await page.get_by_label("New password", exact=True).fill("a much better passphrase 7")
    await page.get_by_label("Repeat it").fill("a much better passphrase 8")
    await page.get_by_role("button", name="Set password").click()
    await page.get_by_text("The two passwords differ.").wait_for()

    await page.get_by_label("Repeat it").fill("a much better passphrase 7")
    await page.get_by_role("button", name="Set password").click()
    await page.get_by_role("heading", name="Password changed").wait_for()
    await sign_in(probe, ui_registry, "dee", password="a much better passphrase 7")
