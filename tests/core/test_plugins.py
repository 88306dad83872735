"""The plugin manager: built-ins, entry points, the block list, requirements, hook names."""

from __future__ import annotations

import sys
import textwrap
import types

import pytest

from agentvault_registry import hookimpl
from agentvault_registry.core.errors import PluginError
from agentvault_registry.core.plugins import (
    DEFAULT_PLUGINS,
    build_plugin_manager,
    describe_plugins,
)


def plugin_module(name: str, **attributes) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


def test_every_built_in_plugin_is_loaded():
    pm = build_plugin_manager(load_entry_points=False)
    assert {name for name, _ in DEFAULT_PLUGINS} <= {pm.get_name(p) for p in pm.get_plugins()}


def test_a_disabled_plugin_is_not_loaded():
    pm = build_plugin_manager(["webui"], load_entry_points=False)
    assert pm.get_plugin("webui") is None
    assert pm.is_blocked("webui")


def test_disabling_an_unknown_plugin_names_the_installed_ones():
    with pytest.raises(PluginError) as caught:
        build_plugin_manager(["webiu"], load_entry_points=False)
    assert "'webiu'" in str(caught.value)
    assert "webui" in str(caught.value)


def test_a_plugin_requiring_a_disabled_plugin_stops_startup():
    needs_webui = plugin_module("needs_webui", REQUIRES=("webui",))
    with pytest.raises(PluginError) as caught:
        build_plugin_manager(
            ["webui"], extra_plugins=[("needs_webui", needs_webui)], load_entry_points=False
        )
    assert caught.value.problems == [
        "plugin 'needs_webui' requires plugin 'webui', which is disabled"
    ]


def test_a_plugin_requiring_a_missing_plugin_says_it_is_not_installed():
    needs_ghost = plugin_module("needs_ghost", REQUIRES=("ghost",))
    with pytest.raises(PluginError, match="'ghost', which is not installed"):
        build_plugin_manager(extra_plugins=[("needs_ghost", needs_ghost)], load_entry_points=False)


def test_a_misspelled_hook_is_caught_at_startup():
    @hookimpl
    def register_route(settings):  # missing the final "s"
        return []

    typo = plugin_module("typo", register_route=register_route)
    with pytest.raises(PluginError, match="register_route"):
        build_plugin_manager(extra_plugins=[("typo", typo)], load_entry_points=False)


def test_describe_lists_plugins_with_their_hooks():
    rows = {
        row["name"]: row for row in describe_plugins(build_plugin_manager(load_entry_points=False))
    }
    assert rows["storage_backends"]["hooks"] == ["register_storage_backends"]
    assert "register_routes" in rows["webui"]["hooks"]


@pytest.fixture
def installed_entry_point_plugin(tmp_path, monkeypatch):
    """A real distribution on sys.path advertising a plugin in the entry-point group."""
    (tmp_path / "avreg_sample_plugin.py").write_text(
        textwrap.dedent(
            """
            from agentvault_registry import hookimpl

            @hookimpl
            def register_card_skills(settings):
                return [{"id": "sample", "name": "Sample", "description": "d", "tags": ["t"]}]
            """
        )
    )
    dist = tmp_path / "avreg_sample_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: avreg-sample-plugin\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text("[agentvault_registry]\nsample = avreg_sample_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "sample"
    sys.modules.pop("avreg_sample_plugin", None)


def test_entry_point_plugins_are_loaded(installed_entry_point_plugin):
    pm = build_plugin_manager()
    assert pm.get_plugin(installed_entry_point_plugin) is not None


def test_entry_point_plugins_can_be_disabled(installed_entry_point_plugin):
    pm = build_plugin_manager([installed_entry_point_plugin])
    assert pm.get_plugin(installed_entry_point_plugin) is None


def test_an_entry_point_that_fails_to_import_is_a_clear_error(tmp_path, monkeypatch):
    dist = tmp_path / "avreg_broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: avreg-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[agentvault_registry]\nbroken = avreg_no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        PluginError, match=r"plugin 'broken' .* failed to load: ModuleNotFoundError"
    ):
        build_plugin_manager()
