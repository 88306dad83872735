"""The view table plugins contribute to, and the vendored libraries the UI ships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentvault_registry.core.errors import ConfigError
from agentvault_registry.webui.builtin_views import BUILTIN_VIEWS
from agentvault_registry.webui.extensions import WebUIView, collect_views, matching_view

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "agentvault_registry" / "webui" / "static" / "vendor"


def test_views_are_ordered_and_parameters_match_one_segment():
    views = collect_views([[WebUIView("/ui/b", "b.js", "B", order=2)], None, BUILTIN_VIEWS])
    assert views[0].path == "/"
    assert matching_view(views, "/ui/discovery/agents/did:agentvault:1").path == (
        "/ui/discovery/agents/:agent_id"
    )
    assert matching_view(views, "/ui/discovery/agents/a/b") is None
    assert matching_view(views, "/ui/b/").path == "/ui/b"


def test_two_views_on_one_path_stop_startup():
    with pytest.raises(ConfigError, match="two web UI views claim the path /ui/x"):
        collect_views([[WebUIView("/ui/x", "a.js", "A")], [WebUIView("/ui/x", "b.js", "B")]])


def test_a_hook_returning_something_else_stops_startup():
    with pytest.raises(ConfigError, match="not a WebUIView"):
        collect_views([[{"path": "/ui/x"}]])


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"path": "ui/x"}, "must be absolute"),
        ({"access": "everyone"}, "access 'everyone'"),
        ({"nav_section": "footer"}, "nav_section 'footer'"),
    ],
)
def test_a_malformed_view_is_refused(changes, problem):
    with pytest.raises(ConfigError, match=problem):
        WebUIView(**({"path": "/ui/x", "module": "x.js", "title": "X"} | changes))


def test_plugin_modules_keep_their_url_and_built_in_ones_resolve_under_the_asset_base():
    plugin = WebUIView("/ui/x", "/static/x/view.js", "X").as_config("/static/webui/v1/js")
    builtin = WebUIView("/ui/y", "views/y.js", "Y", nav_label="Y").as_config("/static/webui/v1/js")
    assert plugin["module"] == "/static/x/view.js"
    assert builtin["module"] == "/static/webui/v1/js/views/y.js"
    assert builtin["nav"] == {"label": "Y", "section": "main", "icon": None}


def test_the_vendored_libraries_are_the_versions_package_json_pins():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    vendored = json.loads((VENDOR / "VERSIONS.json").read_text())
    assert vendored == pinned
    assert (
        f"Bootstrap  v{pinned['bootstrap']}" in (VENDOR / "bootstrap/bootstrap.min.css").read_text()
    )
    assert f"v{pinned['chart.js']}" in (VENDOR / "chart.js/chart.umd.min.js").read_text()[:300]
    axe = ROOT / "tests/webui/vendor/axe-core/axe.min.js"
    assert f"axe v{pinned['axe-core']}" in axe.read_text()[:200]
