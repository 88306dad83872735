"""Checking that each agent a peer answers with carries that peer's signature.

A registry signs every agent it answers a peer with (``origin_signature``, made by the
``sign_document`` hook: JWS over the RFC 8785 canonical agent without that member). The
asking registry checks it against the JWK Set at the peer's configured URL, fetched the way
the peer is queried (same client, address policy and TLS) and never from a URL the answer
names: whatever sits between the two registries, or a peer speaking for another, cannot
slip an agent into our results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentvault_registry.core import jws
from agentvault_registry.core.httpclient.tls import ServerIdentityContext
from agentvault_registry.core.jwks import JwksFetcher, KeysUnavailable, jwks_url
from agentvault_registry.storage_backends.federation import PeerRecord

#: The member of each agent a registry answers with that holds its signature of the agent.
ORIGIN_SIGNATURE = "origin_signature"
UNSIGNED = "the agent carries no signature of the peer's"


class OriginSignatures:
    def __init__(self, keys: JwksFetcher, *, required: bool) -> None:
        self.keys = keys
        #: Whether an unsigned agent is dropped (a peer that signs nothing).
        self.required = required

    async def problem(
        self, peer: PeerRecord, agent: Mapping[str, Any], tls: ServerIdentityContext | None
    ) -> str:
        """``""`` when ``agent`` carries ``peer``'s valid signature, else why not."""
        signature = agent.get(ORIGIN_SIGNATURE)
        if signature is None:
            return UNSIGNED if self.required else ""
        try:
            header = jws.protected_header(signature)
            kid = jws.key_id(signature, header)
            payload = jws.canonical_payload(agent, ORIGIN_SIGNATURE)
            url = jwks_url(peer.registry_url)
            keys = await self.keys.keys(url, tls=tls)
            key = next((key for key in keys if key.get("kid") == kid), None)
            if key is None:
                return f"the signing key is not published at {url}"
            jws.verify(payload, signature, key)
        except jws.SignatureProblem as exc:
            return str(exc)
        except KeysUnavailable as exc:
            return exc.reason
        return ""
