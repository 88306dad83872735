"""Roles, and the scopes each role grants. A developer's API key never exceeds its owner's
role; an agent's own key (from onboarding) carries only :data:`AGENTS_SELF`, which no role
grants."""

from __future__ import annotations

DEVELOPER = "developer"
ADMIN = "admin"
ROLES = (DEVELOPER, ADMIN)

AGENTS_READ = "agents:read"
AGENTS_WRITE = "agents:write"
ONBOARD_TOKENS = "onboard:tokens"
ADMIN_SCOPE = "admin"
ALL_SCOPES = (AGENTS_READ, AGENTS_WRITE, ONBOARD_TOKENS, ADMIN_SCOPE)
#: What an agent's own key grants: reading and updating that one agent. No role grants it,
#: so no developer key can carry it.
AGENTS_SELF = "agents:self"
AGENT_KEY_SCOPES = frozenset({AGENTS_SELF})

ROLE_SCOPES: dict[str, frozenset[str]] = {
    DEVELOPER: frozenset({AGENTS_READ, AGENTS_WRITE, ONBOARD_TOKENS}),
    ADMIN: frozenset(ALL_SCOPES),
}


def scopes_for(role: str) -> frozenset[str]:
    return ROLE_SCOPES.get(role, frozenset())
