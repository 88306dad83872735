"""Fixtures of the browser tests: a registry on loopback that mails through a real SMTP server,
Chromium, and probed pages that fail the test on any console error, failed request or CSP
violation they did not expect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from webui_harness import CHROMIUM_ARGS, Inbox, PageProbe, chromium_or_skip, new_probed_page

from registry_harness import Registry, deep_merged, registries
from support import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp_inbox() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def mail_overrides(port: int) -> dict[str, Any]:
    return {
        "plugins": {
            "mail": {
                "backend": "smtp",
                "sender": "Registry <registry@example.org>",
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
            }
        }
    }


@pytest.fixture
async def start_ui_registry(make_settings, tmp_path, smtp_inbox):
    """``await start(name, overrides)``: a registry on loopback (SQLite, its own data dir)
    whose mail goes to the test SMTP server; its ``admin`` headers are an admin's."""
    controller, _ = smtp_inbox
    async with registries(make_settings, tmp_path) as start:

        async def start_with_mail(
            name: str = "Home", overrides: dict | None = None, plugins=()
        ) -> Registry:
            mail = mail_overrides(controller.port)
            return await start(name, deep_merged(mail, overrides or {}), plugins)

        yield start_with_mail


@pytest.fixture
async def ui_registry(start_ui_registry) -> Registry:
    return await start_ui_registry("Home")


@pytest.fixture
async def inbox(smtp_inbox) -> Inbox:
    return smtp_inbox[1]


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def probe(chromium, start_ui_registry) -> AsyncIterator[PageProbe]:
    """A probed page; the test fails if it reported anything unexpected by the end. (It
    closes before the test's registries stop, so nothing it still loads meets a dead port.)"""
    page_probe = await new_probed_page(chromium)
    yield page_probe
    await page_probe.assert_clean()
    await page_probe.page.context.close()
