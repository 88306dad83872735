"""Building the plugin manager: built-in plugins, entry points, the block list, requirements."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from typing import Any

import pluggy

from agentvault_registry.core import hookspecs
from agentvault_registry.core.asyncutils import await_me_maybe
from agentvault_registry.core.errors import PluginError

ENTRY_POINT_GROUP = "agentvault_registry"

#: Built-in features, registered exactly like third-party plugins: (name, module).
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("storage_backends", "agentvault_registry.storage_backends.plugin"),
    ("webui", "agentvault_registry.webui"),
    ("mail", "agentvault_registry.plugins.mail"),
    ("auth", "agentvault_registry.plugins.auth"),
    ("agents", "agentvault_registry.plugins.agents"),
    ("onboarding", "agentvault_registry.plugins.onboarding"),
    ("discovery", "agentvault_registry.plugins.discovery"),
    ("federation", "agentvault_registry.plugins.federation"),
    ("teg_bridge", "agentvault_registry.plugins.teg_bridge"),
    ("liveness", "agentvault_registry.plugins.liveness"),
    ("spiffe_identity", "agentvault_registry.plugins.spiffe_identity"),
    ("card_trust", "agentvault_registry.plugins.card_trust"),
    ("activity", "agentvault_registry.plugins.activity"),
    ("events", "agentvault_registry.plugins.events"),
)


def installed_plugin_names() -> list[str]:
    """Names of the built-in plugins and of every installed entry-point plugin."""
    names = [name for name, _ in DEFAULT_PLUGINS]
    names += [ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]
    return names


def build_plugin_manager(
    disabled: Iterable[str] = (),
    *,
    extra_plugins: Iterable[tuple[str, Any]] = (),
    load_entry_points: bool = True,
) -> pluggy.PluginManager:
    """Register the built-in, installed and ``extra_plugins`` plugins, minus ``disabled``.

    Raises :class:`PluginError` for an unknown name in ``disabled``, a plugin that fails to
    import, a plugin whose ``REQUIRES`` names a plugin that is not loaded, or a hook
    implementation that matches no hookspec (a misspelled hook).
    """
    disabled = list(disabled)
    extra_plugins = list(extra_plugins)
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)

    known = set(installed_plugin_names()) | {name for name, _ in extra_plugins}
    unknown = sorted(set(disabled) - known)
    if unknown:
        raise PluginError(
            f"plugins.disabled names unknown plugin(s) {', '.join(map(repr, unknown))}; "
            f"installed: {', '.join(sorted(known))}"
        )
    for name in disabled:
        pm.set_blocked(name)

    for name, module_path in DEFAULT_PLUGINS:
        if not pm.is_blocked(name):
            pm.register(_import_plugin(name, module_path), name=name)
    if load_entry_points:
        _load_entry_points(pm)
    for name, plugin in extra_plugins:
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)

    _check_requirements(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r}: {exc}") from None
    return pm


def implementations(hook: pluggy.HookCaller) -> list[pluggy.HookImpl]:
    """``hook``'s implementations in the order calling the hook runs them, for callers that
    must call each on its own (attribute its answer, await it, or survive its failure)."""
    return list(reversed(hook.get_hookimpls()))


def results_by_plugin(hook: pluggy.HookCaller, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call each implementation of ``hook``; pair every result with its plugin's name.

    For the hooks whose answers the core must attribute (a config schema belongs to one
    plugin's section; a bad skill or a duplicate backend must name its plugin). Same order as
    calling the hook.
    """
    return [(impl.plugin_name, impl.function(**kwargs)) for impl in implementations(hook)]


async def run_in_turn(hook: pluggy.HookCaller, **kwargs: Any) -> None:
    """Call each implementation of ``hook`` and await its answer before calling the next (in
    the order calling the hook would), so one that fails leaves no other's coroutine made and
    never awaited, and each runs after those before it have finished."""
    for impl in implementations(hook):
        await await_me_maybe(impl.function(**kwargs))


def plugin_name(pm: pluggy.PluginManager, plugin: Any) -> str:
    name = pm.get_name(plugin)
    assert name is not None
    return name


def describe_plugins(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """Each loaded plugin with the hooks it implements, sorted by name (for the CLI)."""
    rows = []
    for plugin in pm.get_plugins():
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        rows.append(
            {
                "name": plugin_name(pm, plugin),
                "module": getattr(plugin, "__name__", type(plugin).__name__),
                "hooks": hooks,
            }
        )
    return sorted(rows, key=lambda row: row["name"])


def _import_plugin(name: str, module_path: str) -> Any:
    try:
        return importlib.import_module(module_path)
    except ImportError as exc:
        raise PluginError(f"plugin {name!r} ({module_path}) failed to import: {exc}") from None


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any error in third-party import code stops startup cleanly
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from None
        pm.register(plugin, name=ep.name)


def _check_requirements(pm: pluggy.PluginManager) -> None:
    problems = []
    for plugin in pm.get_plugins():
        for required in getattr(plugin, "REQUIRES", ()):
            if pm.get_plugin(required) is None:
                why = "is disabled" if pm.is_blocked(required) else "is not installed"
                problems.append(
                    f"plugin {plugin_name(pm, plugin)!r} requires plugin {required!r}, which {why}"
                )
    if problems:
        raise PluginError(problems)
