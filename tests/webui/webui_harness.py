"""Driving the web UI in Debian's Chromium: a page whose console errors, failed requests and
Content-Security-Policy violations are collected (and fail the test unless expected), an
axe-core accessibility check, and screenshots at desktop and phone width."""

from __future__ import annotations

import asyncio
import email
import os
import re
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from registry_harness import PASSWORD
from support import running_in_ci

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("AVREG_TEST_OUTPUT", HERE.parents[1] / "test-output")) / "webui"
CHROMIUM = "/usr/bin/chromium"
#: Flags for a headless Chromium on a machine whose only network is loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: Requests a view aborts on purpose (leaving a page mid-fetch, closing an event stream).
ABORTED = "net::ERR_ABORTED"

#: Collects what the page reports about CSP, before any of the page's own scripts run.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
    }));
}
"""


@dataclass
class Expected:
    status: int
    path: re.Pattern[str]

    def covers(self, status: int, url: str) -> bool:
        return status == self.status and bool(self.path.search(url))


@dataclass
class PageProbe:
    """Everything a page did wrong; ``expect`` allows an error answer the test provokes."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)

    def attach(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)

    def expect(self, status: int, path: str) -> None:
        """Allow answers with ``status`` for URLs matching the regex ``path``."""
        self.expected.append(Expected(status, re.compile(path)))

    def _is_expected(self, status: int, url: str) -> bool:
        return any(item.covers(status, url) for item in self.expected)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        # Chromium logs every error answer as "Failed to load resource"; the response
        # handler judges those, with the URL the console line lacks.
        if message.text.startswith("Failed to load resource: the server responded"):
            return
        self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _request_failed(self, request: Any) -> None:
        failure = request.failure or ""
        if ABORTED not in failure:
            self.failed_requests.append(f"{request.method} {request.url}: {failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and not self._is_expected(response.status, response.url):
            self.failed_requests.append(
                f"{response.request.method} {response.url}: {response.status}"
            )

    async def csp_violations(self) -> list[str]:
        return await self.page.evaluate("window.__cspViolations || []")

    async def assert_clean(self) -> None:
        violations = await self.csp_violations()
        problems = self.console_errors + self.failed_requests + violations
        assert problems == [], "the page reported:\n" + "\n".join(problems)

    async def accessibility_violations(self) -> list[dict[str, Any]]:
        return await self.page.evaluate(AXE_RUN)

    async def assert_accessible(self) -> None:
        violations = await self.accessibility_violations()
        assert violations == [], f"serious or critical axe violations: {violations}"

    async def screenshots(self, name: str) -> list[Path]:
        """The page at desktop and at phone width, full length; the viewport is restored."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = self.page.viewport_size
        written = []
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await self.page.set_viewport_size(size)
            await self.page.wait_for_timeout(150)
            path = SCREENSHOTS / f"{name}-{label}.png"
            await self.page.screenshot(path=str(path), full_page=True)
            written.append(path)
        await self.page.set_viewport_size(original)
        return written


async def new_probed_page(browser: Any, **context_options: Any) -> PageProbe:
    """A page in a fresh browser context (its own storage), with axe and the CSP listener
    installed before any page script runs (init scripts are not subject to the page's CSP)."""
    # No transitions: axe judges colours at rest, never halfway through a hover fade.
    context = await browser.new_context(
        viewport=DESKTOP, reduced_motion="reduce", **context_options
    )
    await context.add_init_script(script=CSP_LISTENER)
    await context.add_init_script(path=str(AXE))
    probe = PageProbe(await context.new_page())
    probe.attach()
    return probe


class Inbox:
    """An aiosmtpd handler keeping every message the registry sends."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def link(self, path: str, to: str) -> str | None:
        """The newest ``path`` link (``verify-email``, ``reset-password``) mailed to ``to``."""
        for message in reversed(self.messages):
            if to not in message["To"]:
                continue
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    text = part.get_payload(decode=True).decode()
                    found = re.search(rf"(https?://\S+/{path}#token=[\w-]+)", text)
                    if found:
                        return found.group(1)
        return None


def chromium_or_skip() -> str:
    if not os.path.exists(CHROMIUM):
        if running_in_ci():
            pytest.fail(f"{CHROMIUM} must be installed in CI")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM


async def wait_for_link(inbox: Inbox, path: str, to: str) -> str:
    for _ in range(250):
        link = inbox.link(path, to)
        if link:
            return link
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {path} link mailed to {to}")


async def sign_in(
    probe: PageProbe,
    registry: Any,
    username: str,
    landing: str = "/ui/dashboard",
    password: str = PASSWORD,
) -> None:
    """Sign in through the login form, as a person would, and wait for ``landing`` (the login
    page's ``next``; the dashboard by default) to show its heading."""
    page = probe.page
    query = "" if landing == "/ui/dashboard" else f"?next={quote(landing)}"
    await page.goto(f"{registry.url}/ui/login{query}")
    await page.get_by_label("Username or email").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{registry.url}{landing}")
    await page.locator("main[aria-busy=false] h1").first.wait_for()


async def verified_account(
    registry: Any, inbox: Inbox, username: str, role: str | None = None
) -> dict[str, str]:
    """Register ``username``, open the mailed verification link's token, log in; bearer headers."""
    headers = await registry.account(username, role=role)
    link = await wait_for_link(inbox, "verify-email", f"{username}@example.org")
    token = link.split("#token=", 1)[1]
    await registry.json("POST", "/api/v1/auth/verify-email", json={"token": token})
    return headers
