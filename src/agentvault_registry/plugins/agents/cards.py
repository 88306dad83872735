"""Agent cards: normalized and stored in the blob backend, derived when an agent has none.

The normalized A2A 1.0 card is what the registry serves; the document the developer sent is
kept beside it, unchanged, for audit and for re-normalizing after the registry improves.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from agentvault_registry.a2a.derive import derive_card, extract_search_fields
from agentvault_registry.a2a.normalize import normalize_card
from agentvault_registry.core.errors import BackendError, FetchFailed, FetchRefused
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.base import BlobBackend

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/json"
#: Where an agent publishes its card, per A2A; older agents use the second name.
WELL_KNOWN_CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")


#: The card member holding its signatures (A2A §8.4).
SIGNATURES = "signatures"


def unchecked_signature(document: Any) -> dict[str, Any]:
    """The verdict on a card's signatures when no plugin checks them."""
    if isinstance(document, Mapping) and document.get(SIGNATURES):
        return {"status": "unverifiable", "reason": "no plugin of this registry checks signatures"}
    return {"status": "none"}


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def derived_card(agent: AgentRecord) -> dict[str, Any]:
    """The card the registry serves for an agent that publishes none."""
    return derive_card(
        name=agent.name,
        description=agent.description,
        endpoints=list(agent.api_endpoints),
        capabilities=list(agent.capabilities),
        version=str(agent.version),
    )


def derived_summary(agent: AgentRecord) -> dict[str, Any]:
    """What search indexes of a card-less agent: the fields of the card derived for it, so
    it is found by binding and media type like any other."""
    return extract_search_fields(derived_card(agent))


@dataclass(frozen=True)
class StoredCard:
    card: Mapping[str, Any]
    #: Strong validator of the served document.
    etag: str
    derived: bool
    warnings: list[str] = field(default_factory=list)
    blob_key: str | None = None

    def record_fields(self) -> dict[str, Any]:
        """What the agent record keeps of its card."""
        return {
            "card_hash": self.etag,
            "card_blob_key": self.blob_key,
            "card_summary": extract_search_fields(self.card),
        }

    def record_defaults(self) -> dict[str, Any]:
        """Record fields a registration may leave out when it brings a card."""
        interfaces = self.card.get("supportedInterfaces", [])
        skills = self.card.get("skills", [])
        capabilities: list[str] = []
        for skill in skills:
            for value in [skill["id"], *skill.get("tags", [])]:
                if value not in capabilities:
                    capabilities.append(value)
        return {
            "name": self.card["name"],
            "description": self.card["description"],
            "api_endpoints": [interface["url"] for interface in interfaces],
            "capabilities": capabilities,
        }


#: Runs a coroutine without making the request wait (``core.tasks.spawn`` for the app).
Spawn = Callable[[Coroutine[Any, Any, Any], str], object]


class CardStore:
    def __init__(self, blobs: BlobBackend, http: SafeHttpClient, spawn: Spawn) -> None:
        self.blobs = blobs
        self.http = http
        self.spawn = spawn

    async def store(self, agent_id: str, document: Any) -> StoredCard:
        """Normalize ``document`` (422 with field paths when it is no usable card) and keep
        both the normalized card and the original."""
        normalized = normalize_card(document)
        data = canonical_json(normalized.card)
        etag = hashlib.sha256(data).hexdigest()
        key = f"agents/{agent_id}/card-{etag[:16]}.json"
        await self.blobs.put(key, data, CARD_CONTENT_TYPE)
        await self.blobs.put(
            f"agents/{agent_id}/original-{etag[:16]}.json",
            canonical_json(normalized.original),
            CARD_CONTENT_TYPE,
        )
        return StoredCard(normalized.card, etag, False, list(normalized.warnings), key)

    async def discard(self, agent_id: str) -> None:
        """Delete every card document kept for ``agent_id``, an agent never created. Best
        effort: it runs while another error is on its way to the client, which matters more
        than an orphaned blob."""
        try:
            keys = [key async for key in self.blobs.list(f"agents/{agent_id}/")]
            for key in keys:
                await self.blobs.delete(key)
        except BackendError as exc:
            log.warning("could not discard the card of agent %s: %s", agent_id, exc)

    def discard_later(self, agent_id: str) -> None:
        """:meth:`discard` without waiting for it: for when the blob store itself just
        failed, so the client's 503 does not wait a second time on the same store."""
        self.spawn(self.discard(agent_id), f"discard_card:{agent_id}")

    async def load(self, agent: AgentRecord) -> StoredCard:
        if agent.card_blob_key is not None and agent.card_hash is not None:
            blob = await self.blobs.get(agent.card_blob_key)
            return StoredCard(
                json.loads(blob.data), agent.card_hash, False, [], agent.card_blob_key
            )
        card = derived_card(agent)
        return StoredCard(card, hashlib.sha256(canonical_json(card)).hexdigest(), True)

    async def fetch(self, url: str) -> Any:
        """The card an agent publishes: at ``url`` itself when it names a ``.json`` document,
        else at the well-known paths of ``url``'s origin (the current name first)."""
        if url.endswith(".json"):
            return (await self.http.get_json(url)).json
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        last_error: FetchFailed | None = None
        for path in WELL_KNOWN_CARD_PATHS:
            try:
                return (await self.http.get_json(origin + path)).json
            except FetchRefused:
                raise  # refused for where it leads: no other path will be any better
            except FetchFailed as exc:  # absent here; the older well-known name may answer
                last_error = exc
        assert last_error is not None
        raise last_error
