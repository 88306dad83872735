"""How the registry asks a TEG for an agent's token: the OAuth bridge, which presents the
agent's assertion at the TEG's token endpoint with the RFC 7523 JWT-bearer grant, and the
null bridge, which stands in while no TEG is configured (and answers 501)."""

from __future__ import annotations

import abc
import base64
import json
import time
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote_plus

from agentvault_registry.config.secrets import Secret
from agentvault_registry.core.httpclient import FetchResult, SafeHttpClient
from agentvault_registry.plugins.teg_bridge.assertions import AssertionSource, economic_claims
from agentvault_registry.plugins.teg_bridge.errors import TegNotConfigured
from agentvault_registry.storage_backends.agents import AgentRecord

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: A token response is a few hundred bytes; anything near this is no token response.
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class TegToken:
    """An access token of the TEG for one agent and scope; its repr never shows the token."""

    access_token: str = field(repr=False)
    token_type: str
    #: The scope the TEG granted (the one requested when it did not say).
    scope: str
    #: When the TEG says it expires, in seconds since the epoch.
    expires_at: float

    def expires_in(self, now: float | None = None) -> int:
        """Whole seconds left, never negative."""
        remaining = self.expires_at - (time.time() if now is None else now)
        return max(0, int(remaining))


class TegBridge(abc.ABC):
    #: False for the null bridge: ``agent_teg_token`` then answers None.
    configured: ClassVar[bool]

    @abc.abstractmethod
    async def request_token(self, agent: AgentRecord, scope: str) -> FetchResult:
        """Ask the TEG for ``agent``'s token in ``scope``: its answer, whatever its status.

        Raises :class:`~agentvault_registry.core.errors.FetchFailed` (or its subclasses)
        when there is no answer.
        """


class NullBridge(TegBridge):
    configured = False

    async def request_token(self, agent: AgentRecord, scope: str) -> FetchResult:
        raise TegNotConfigured()


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: Secret

    def authorization(self) -> str:
        # RFC 6749 section 2.3.1: both are form-encoded before they are joined and encoded.
        joined = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret.reveal())}"
        return "Basic " + base64.b64encode(joined.encode()).decode("ascii")


class OAuthBridge(TegBridge):
    configured = True

    def __init__(
        self,
        token_url: str,
        client: SafeHttpClient,
        assertions: AssertionSource,
        *,
        credentials: ClientCredentials | None,
        timeout: float,
    ) -> None:
        self.token_url = token_url
        self.client = client
        self.assertions = assertions
        self.timeout = timeout
        self._headers = {"Accept": "application/json"}
        if credentials is not None:
            self._headers["Authorization"] = credentials.authorization()

    async def request_token(self, agent: AgentRecord, scope: str) -> FetchResult:
        # The TEG is the assertion's audience: its token endpoint URL (RFC 7523 section 3).
        assertion = await self.assertions.assertion(agent, self.token_url)
        form = {"grant_type": JWT_BEARER, "assertion": assertion, "scope": scope}
        # Also sent beside the assertion: a JWT-SVID from another plugin cannot carry them.
        for name, value in economic_claims(agent).items():
            form[name] = value if isinstance(value, str) else compact_json(value)
        return await self.client.post_form(
            self.token_url,
            form,
            headers=self._headers,
            timeout=self.timeout,
            max_bytes=MAX_TOKEN_RESPONSE_BYTES,
        )


def compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
