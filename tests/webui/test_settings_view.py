"""Settings in the browser: the account, a password change, signing out everywhere, and the
appearance remembered per browser."""

from __future__ import annotations

import pytest
from webui_harness import sign_in, verified_account

from registry_harness import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a much better passphrase 7"


@pytest.fixture
async def registry(ui_registry):
    await ui_registry.account("ada")
    return ui_registry


async def test_the_account_is_shown(probe, registry):
    await sign_in(probe, registry, "ada", landing="/ui/settings")
    account = probe.page.locator("#account")
    await account.get_by_text("ada@example.org").wait_for()
    assert "developer" in await account.inner_text()


async def test_a_wrong_current_password_is_shown_beside_it(probe, registry):
    probe.expect(401, r"/api/v1/auth/password$")
    probe.expect(403, r"/api/v1/auth/password$")
    probe.expect(422, r"/api/v1/auth/password$")
    await sign_in(probe, registry, "ada", landing="/ui/settings")
    page = probe.page
    await page.get_by_label("Current password").fill("not my password at all")
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await page.locator("#password [role=alert], #password .is-invalid").first.wait_for()
    login = await registry.request(
        "POST", "/api/v1/auth/login", json={"username": "ada", "password": PASSWORD}
    )
    assert login.status == 200, "the old password still works"


async def test_changing_the_password_keeps_this_session_and_ends_the_others(probe, registry):
    other = await registry.json(
        "POST", "/api/v1/auth/login", json={"username": "ada", "password": PASSWORD}
    )
    await sign_in(probe, registry, "ada", landing="/ui/settings")
    page = probe.page
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await page.get_by_text("Password changed.").wait_for()
    refreshed = await registry.request(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert refreshed.status == 401
    await page.reload()
    await page.locator("#account").get_by_text("ada@example.org").wait_for()


async def test_signing_out_everywhere_ends_every_session(probe, registry):
    other = await registry.json(
        "POST", "/api/v1/auth/login", json={"username": "ada", "password": PASSWORD}
    )
    await sign_in(probe, registry, "ada", landing="/ui/settings")
    page = probe.page
    await page.get_by_role("button", name="Sign out everywhere").click()
    await page.wait_for_url(f"{registry.url}/ui/login")
    refreshed = await registry.request(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert refreshed.status == 401
    await page.goto(f"{registry.url}/ui/settings")
    await page.wait_for_url(f"{registry.url}/ui/login?next=%2Fui%2Fsettings")


async def test_the_theme_is_remembered_by_this_browser(probe, registry):
    await sign_in(probe, registry, "ada", landing="/ui/settings")
    page = probe.page
    await page.get_by_text("Dark", exact=True).click()
    assert await page.get_attribute("html", "data-bs-theme") == "dark"
    await page.reload()
    await page.locator("#account").wait_for()
    assert await page.get_attribute("html", "data-bs-theme") == "dark"
    assert await page.get_by_label("Dark", exact=True).is_checked()
    await page.get_by_text("Light", exact=True).click()
    await page.get_by_text("Compact", exact=True).click()
    assert await page.get_attribute("html", "data-bs-theme") == "light"
    assert "density-compact" in (await page.get_attribute("body", "class") or "")


async def test_the_system_theme_follows_the_operating_system(probe, registry):
    await probe.page.emulate_media(color_scheme="dark")
    await sign_in(probe, registry, "ada", landing="/ui/settings")
    assert await probe.page.get_attribute("html", "data-bs-theme") == "dark"
    await probe.page.emulate_media(color_scheme="light")
    await probe.page.wait_for_function(
        "() => document.documentElement.getAttribute('data-bs-theme') === 'light'"
    )


async def test_api_keys_and_the_token_history_are_managed_here_too(probe, registry, inbox):
    headers = await verified_account(registry, inbox, "bea")
    await registry.json(
        "POST", "/api/v1/onboard/bootstrap/request-token", expect=201, json={}, headers=headers
    )
    await sign_in(probe, registry, "bea", landing="/ui/settings")
    page = probe.page
    history = page.locator("#token-history")
    await history.locator("[data-token-status=active]").wait_for()

    keys = page.locator("#api-keys")
    await keys.get_by_label("Name").fill("laptop")
    await keys.get_by_label("Read agents").check()
    await keys.get_by_role("button", name="Create key").click()
    shown = keys.get_by_label("New API key")
    await shown.wait_for()
    key = await shown.input_value()
    assert key.startswith("avk_")
    listed = await registry.json("GET", "/api/v1/auth/api-keys", headers=headers)
    assert [item["name"] for item in listed["api_keys"]] == ["laptop"]
    with_key = await registry.request("GET", "/api/v1/agents", headers={"X-API-Key": key})
    assert with_key.status == 200
