"""The pages of the web UI as plugins declare them (the ``register_webui_views`` hook)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.errors import ConfigError

ACCESS_LEVELS = ("public", "guest", "user", "admin")
NAV_SECTIONS = ("main", "account", "admin")
_PARAMETER = re.compile(r":([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class WebUIView:
    """One page of the single-page app.

    ``path`` is what the browser shows (``/ui/agents/:agent_id``); ``module`` the URL of the ES
    module whose default export is the view class, absolute (``/static/my-plugin/page.js``) or
    relative to the web UI's own ``js/`` directory (how the built-in views are named).
    ``nav_label`` puts an entry in the navigation's ``nav_section``, sorted by ``order``.
    """

    path: str
    module: str
    title: str
    access: str = "user"
    nav_label: str | None = None
    nav_section: str = "main"
    icon: str | None = None
    order: int = 100

    def __post_init__(self) -> None:
        problems = []
        if not self.path.startswith("/") or "//" in self.path:
            problems.append(f"path {self.path!r} must be absolute")
        if self.access not in ACCESS_LEVELS:
            problems.append(f"access {self.access!r} is not one of {', '.join(ACCESS_LEVELS)}")
        if self.nav_section not in NAV_SECTIONS:
            problems.append(f"nav_section {self.nav_section!r} is not one of {NAV_SECTIONS}")
        if problems:
            raise ConfigError(f"web UI view {self.path}: " + "; ".join(problems))

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + _PARAMETER.sub(r"(?P<\1>[^/]+)", re.escape(self.path)) + "/?$")

    def as_config(self, js_base: str) -> dict[str, Any]:
        module = self.module if self.module.startswith("/") else f"{js_base}/{self.module}"
        return {
            "path": self.path,
            "module": module,
            "title": self.title,
            "access": self.access,
            "nav": None
            if self.nav_label is None
            else {"label": self.nav_label, "section": self.nav_section, "icon": self.icon},
            "order": self.order,
        }


def collect_views(contributions: Iterable[Iterable[WebUIView] | None]) -> list[WebUIView]:
    """Every plugin's views, ordered; two views claiming one path stop startup."""
    views: dict[str, WebUIView] = {}
    for contribution in contributions:
        for view in contribution or ():
            if not isinstance(view, WebUIView):
                raise ConfigError(f"register_webui_views returned {view!r}, not a WebUIView")
            if view.path in views:
                raise ConfigError(f"two web UI views claim the path {view.path}")
            views[view.path] = view
    return sorted(views.values(), key=lambda view: (view.order, view.path))


def matching_view(views: Iterable[WebUIView], path: str) -> WebUIView | None:
    return next((view for view in views if view.pattern.match(path)), None)
