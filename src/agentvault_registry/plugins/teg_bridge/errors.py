"""What the TEG bridge answers when it cannot hand out a token: always one of these, never a
500. Messages are fixed texts: the TEG's own words travel in ``details`` only where they are
an OAuth error meant for the client (``teg_refused``)."""

from __future__ import annotations

from typing import Any

from agentvault_registry.core.errors import BadGateway, Forbidden, NotConfigured, ServiceUnavailable


class TegNotConfigured(NotConfigured):
    default_message = (
        "This registry bridges to no TEG: plugins.teg_bridge.token_url is not configured."
    )


class AgentNotActive(Forbidden):
    code = "agent_not_active"

    def __init__(self, status: str) -> None:
        super().__init__(
            f"Only an active agent gets TEG tokens; this agent is {status}.",
            details={"status": status},
        )


class TegUnavailable(ServiceUnavailable):
    """The TEG could not be reached in time, failed (5xx) or is limiting us (429)."""

    code = "teg_unavailable"
    default_message = "The TEG token endpoint is unavailable; try again later."


class TegRefused(BadGateway):
    """The TEG answered the token request with an OAuth error (400, 401 or 403)."""

    code = "teg_refused"
    default_message = "The TEG refused to issue a token for this agent."

    def __init__(self, *, status: int, error: str, error_description: str | None) -> None:
        details: dict[str, Any] = {
            "status": status,
            "error": error,
            "error_description": error_description,
        }
        super().__init__(details=details)


class TegBadResponse(BadGateway):
    """The TEG answered with something that is no token response and no OAuth error."""

    code = "teg_bad_response"
    default_message = "The TEG token endpoint gave an answer that makes no sense."
