"""The shell, its assets and its security headers, over HTTP: every web UI path answers with
the one page, under a Content-Security-Policy without inline code or eval."""

from __future__ import annotations

import re

import pytest

from agentvault_registry.webui.assets import asset_base, asset_version
from agentvault_registry.webui.builtin_views import BUILTIN_VIEWS


def concrete(path: str) -> str:
    return re.sub(r":[a-z_]+", "some-id", path)


@pytest.fixture
async def webui(aiohttp_client, make_app):
    return await aiohttp_client(make_app())


@pytest.mark.parametrize("path", [concrete(view.path) for view in BUILTIN_VIEWS])
async def test_every_view_path_serves_the_shell(webui, path):
    response = await webui.get(path)
    assert response.status == 200
    assert response.content_type == "text/html"
    body = await response.text()
    assert 'id="webui-config"' in body
    assert f"{asset_base()}/js/app.js" in body
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_shell_forbids_inline_code_and_eval(webui):
    policy = (await webui.get("/ui/discovery")).headers["Content-Security-Policy"]
    directives = dict(item.strip().split(" ", 1) for item in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


async def test_an_unknown_ui_path_is_a_404_that_still_renders_the_app(webui):
    response = await webui.get("/ui/no/such/page")
    assert response.status == 404
    assert 'id="webui-config"' in await response.text()


async def test_the_config_lists_every_view_with_its_versioned_module(webui):
    body = await (await webui.get("/")).text()
    config = re.search(r'id="webui-config">(.*?)</script>', body, re.S).group(1)
    assert "<" not in config, "the JSON must not be able to close its script element"
    for view in BUILTIN_VIEWS:
        assert f'"{asset_base()}/js/{view.module}"' in config


async def test_current_assets_are_cached_for_a_year(webui):
    response = await webui.get(f"{asset_base()}/js/app.js")
    assert response.status == 200
    assert response.content_type in {"application/javascript", "text/javascript"}
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_an_old_version_gets_todays_file_uncached(webui):
    response = await webui.get("/static/webui/000000000000/js/app.js")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert asset_version() != "000000000000"


async def test_fonts_carry_their_type(webui):
    response = await webui.get(f"{asset_base()}/vendor/bootstrap-icons/fonts/bootstrap-icons.woff2")
    assert response.status == 200
    assert response.content_type == "font/woff2"


@pytest.mark.parametrize(
    "path",
    [
        "../views.py",
        "..%2Fviews.py",
        "js/../../views.py",
        "js/nope.js",
        "js",
        "js/%00.js",
        "js/" + "a" * 5000,
        "js/%ff%fe.js",
    ],
)
async def test_nothing_outside_the_static_directory_is_served(webui, path):
    response = await webui.get(f"{asset_base()}/{path}")
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"


async def test_a_headless_registry_has_no_web_ui(aiohttp_client, make_app):
    client = await aiohttp_client(make_app({"plugins": {"disabled": ["webui"]}}))
    assert (await client.get("/ui/discovery")).status == 404
    assert (await client.get("/health")).status == 200
