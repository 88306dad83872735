"""Agents: registration, reading, optimistic updates, soft deletion and the change feed.

Reading is open to everyone; only an agent's developer (or an admin) changes it. Every change
is written together with its event, and announced to plugins through ``agent_changed``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.errors import (
    BackendError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from agentvault_registry.core.identity import AGENT, Identity
from agentvault_registry.plugins.agents.cards import CardStore, StoredCard, derived_summary
from agentvault_registry.plugins.agents.schemas import AgentFieldsSchema
from agentvault_registry.plugins.auth.scopes import ADMIN
from agentvault_registry.storage_backends.agents import (
    DELETED,
    DID_PREFIX,
    AgentEvent,
    AgentFilter,
    AgentPage,
    AgentRecord,
)
from agentvault_registry.storage_backends.base import RecordsBackend

CREATED = "created"
UPDATED = "updated"
DELETED_EVENT = "deleted"
DEFAULT_AGENT_TYPE = "a2a"
#: Longer than any id, DID or slug: not worth a query.
MAX_REFERENCE = 200
#: Request names of record fields a card can supply.
DATA_KEYS = {"api_endpoints": "apiEndpoints"}
#: Fields whose change voids an ownership proof: it was made for the old endpoints.
PROOF_VOIDING_FIELDS = frozenset({"api_endpoints", "card_hash"})
#: Unconditional updates retry this often when another update slips in between.
UNCONDITIONAL_ATTEMPTS = 3
#: What PUT resets when the body leaves a field out (the slug and status are kept).
REPLACE_DEFAULTS: Mapping[str, Any] = {
    "agent_type": DEFAULT_AGENT_TYPE,
    "api_endpoints": (),
    "capabilities": (),
    "tags": (),
    "pricing": None,
    "teg_wallet_address": None,
    "metadata": {},
}


def with_derived_summary(agent: AgentRecord, changes: Mapping[str, Any]) -> Mapping[str, Any]:
    """``changes``, plus the search summary of the card derived for the agent they leave
    card-less: computed from the agent as read just before this write attempt, so a retry
    after a concurrent update never restores what that update changed."""
    if changes.get("card_blob_key", agent.card_blob_key) is not None:
        return changes
    changed = dataclasses.replace(agent, **changes)
    return {**changes, "card_summary": derived_summary(changed)}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:48].strip("-") or "agent"


def checked_defaults(stored: StoredCard, given: Mapping[str, Any]) -> dict[str, Any]:
    """The record fields a card supplies that the request left out, held to the same limits
    as fields sent directly (a card may carry a 5,000-character name)."""
    defaults = {key: value for key, value in stored.record_defaults().items() if key not in given}
    problems = AgentFieldsSchema().validate(
        {DATA_KEYS.get(key, key): value for key, value in defaults.items()}
    )
    if problems:
        raise ValidationFailed(
            "The card's name, description, interfaces or skills exceed the record's limits.",
            details={"card": problems},
        )
    return defaults


#: Checks a card's signatures: (the document as sent, the card normalized) -> the verdict
#: the agent keeps as its ``signature`` (hook ``check_card_signatures``).
SignatureCheck = Callable[[Any, Mapping[str, Any]], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Written:
    agent: AgentRecord
    #: What card normalization changed (v0.3 upgrade, spellings), for the response.
    warnings: list[str]


class AgentService:
    def __init__(
        self,
        records: RecordsBackend,
        cards: CardStore,
        announce: Callable[[str, AgentRecord, Identity | None], None],
        check_signatures: SignatureCheck,
    ) -> None:
        self.records = records
        self.cards = cards
        self.announce = announce
        self.check_signatures = check_signatures

    # ------------------------------------------------------------------ reads

    async def get(self, reference: str) -> AgentRecord:
        if len(reference) > MAX_REFERENCE or not reference.isprintable():
            raise NotFound("No such agent.")
        agent = await self.records.get_agent(reference)
        if agent is None or agent.status == DELETED:
            raise NotFound("No such agent.")
        return agent

    async def list(
        self,
        agent_filter: AgentFilter,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None,
        offset: int = 0,
    ) -> AgentPage:
        return await self.records.list_agents(agent_filter, limit=limit, after=after, offset=offset)

    async def changes(self, after_seq: int, limit: int) -> list[AgentEvent]:
        return await self.records.list_agent_events(after_seq=after_seq, limit=limit)

    # ----------------------------------------------------------------- writes

    async def create(self, actor: Identity, fields: Mapping[str, Any]) -> Written:
        draft = await self.draft(actor.subject, fields)
        # The backend records the snapshot from the row it stored.
        event = AgentEvent(CREATED, draft.agent.id, actor.subject, draft.agent.created_at, {})
        async with self.discarding_card_on_failure(draft.agent.id):
            created = await self.records.create_agent(draft.agent, event)
        self.announce(CREATED, created, actor)
        return Written(created, draft.warnings)

    async def draft(self, developer_id: str, fields: Mapping[str, Any]) -> Written:
        """A new agent of ``developer_id`` from registration ``fields``, not yet stored; its
        card (if it brings one) is stored already, under the new agent's id."""
        fields = dict(fields)
        agent_id = str(uuid.uuid4())
        card_document = await self._card_document(fields)
        signature: Mapping[str, Any] = {}
        async with self.discarding_card_on_failure(agent_id):
            # An empty card is still a card given: the card validator refuses it (a 422), it
            # does not stand for "no card" (which would leave the agent without a name).
            stored = (
                await self.cards.store(agent_id, card_document)
                if card_document is not None
                else None
            )
            defaults = checked_defaults(stored, fields) if stored else {}
            if stored is not None:
                signature = await self.check_signatures(card_document, stored.card)
        now = utcnow()
        name = fields.pop("name", None) or defaults["name"]
        agent = AgentRecord(
            id=agent_id,
            did=DID_PREFIX + agent_id,
            name=name,
            agent_type=fields.pop("agent_type", DEFAULT_AGENT_TYPE),
            status=fields.pop("status", "active"),
            description=fields.pop("description", None) or defaults["description"],
            developer_id=developer_id,
            human_readable_id=fields.pop("human_readable_id", None)
            or f"{slugify(name)}-{agent_id[:8]}",
            created_at=now,
            updated_at=now,
            api_endpoints=tuple(
                fields.pop("api_endpoints", None) or defaults.get("api_endpoints", ())
            ),
            capabilities=tuple(
                fields.pop("capabilities", None) or defaults.get("capabilities", ())
            ),
            tags=tuple(fields.pop("tags", ())),
            pricing=fields.pop("pricing", None),
            teg_wallet_address=fields.pop("teg_wallet_address", None),
            metadata=fields.pop("metadata", {}),
            signature=signature,
            **(stored.record_fields() if stored else {}),
        )
        if stored is None:
            agent = dataclasses.replace(agent, card_summary=derived_summary(agent))
        return Written(agent, stored.warnings if stored else [])

    @contextlib.asynccontextmanager
    async def discarding_card_on_failure(self, agent_id: str) -> AsyncIterator[None]:
        """Remove the card stored for a new agent when its creation fails: no record will
        ever point at it."""
        try:
            yield
        except BackendError as exc:
            if exc.backend == self.cards.blobs.name:
                self.cards.discard_later(agent_id)
            else:
                await self.cards.discard(agent_id)
            raise
        except Exception:
            await self.cards.discard(agent_id)
            raise

    async def update(
        self,
        actor: Identity,
        reference: str,
        fields: Mapping[str, Any],
        *,
        expected_version: int | None,
        replace: bool = False,
    ) -> Written:
        agent = await self._owned(actor, reference)
        changes: dict[str, Any] = dict(REPLACE_DEFAULTS) if replace else {}
        card_document = await self._card_document(dict(fields))
        warnings: list[str] = []
        if card_document is not None:
            stored = await self.cards.store(agent.id, card_document)
            changes.update(checked_defaults(stored, fields))
            changes.update(stored.record_fields())
            changes["signature"] = await self.check_signatures(card_document, stored.card)
            warnings = stored.warnings
        changes.update(
            (key, tuple(value) if isinstance(value, list) else value)
            for key, value in fields.items()
            if key not in {"card", "card_url"}
        )
        changes = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in changes.items()
        }
        endpoints = changes.get("api_endpoints", agent.api_endpoints)
        if not endpoints and changes.get("card_blob_key", agent.card_blob_key) is None:
            # The card the registry derives for a card-less agent needs an interface URL.
            raise ValidationFailed(
                details={"apiEndpoints": ["Required while the agent has no card of its own."]}
            )
        if any(
            key in PROOF_VOIDING_FIELDS and value != getattr(agent, key)
            for key, value in changes.items()
        ):
            changes.update(verified=False, verified_at=None)
        updated = await self._apply(actor, agent, changes, expected_version)
        self.announce(UPDATED, updated, actor)
        return Written(updated, warnings)

    async def _apply(
        self,
        actor: Identity,
        agent: AgentRecord,
        changes: Mapping[str, Any],
        expected_version: int | None,
    ) -> AgentRecord:
        """Update with the caller's precondition; without one, last write wins, retrying when
        another update lands between our read and our write (a 412 nobody asked for)."""
        event = AgentEvent(UPDATED, agent.id, actor.subject, utcnow(), {})
        if expected_version is not None:
            return await self.records.update_agent(
                agent.id, expected_version, with_derived_summary(agent, changes), event
            )
        for attempt in range(UNCONDITIONAL_ATTEMPTS):
            try:
                return await self.records.update_agent(
                    agent.id, agent.version, with_derived_summary(agent, changes), event
                )
            except PreconditionFailed:
                if attempt == UNCONDITIONAL_ATTEMPTS - 1:
                    raise
                agent = await self.get(agent.id)
        raise AssertionError("unreachable")

    async def delete(
        self, actor: Identity, reference: str, *, expected_version: int | None
    ) -> None:
        agent = await self._owned(actor, reference)
        event = AgentEvent(DELETED_EVENT, agent.id, actor.subject, utcnow(), {})
        deleted = await self.records.update_agent(
            agent.id,
            agent.version if expected_version is None else expected_version,
            {"status": DELETED},
            event,
        )
        self.announce(DELETED_EVENT, deleted, actor)

    async def mark_verified(self, agent: AgentRecord, actor: Identity) -> AgentRecord:
        now = utcnow()
        event = AgentEvent(UPDATED, agent.id, actor.subject, now, {})
        updated = await self.records.update_agent(
            agent.id, agent.version, {"verified": True, "verified_at": now}, event
        )
        self.announce(UPDATED, updated, actor)
        return updated

    # ---------------------------------------------------------------- helpers

    async def owned(self, actor: Identity, reference: str) -> AgentRecord:
        return await self._owned(actor, reference)

    async def _owned(self, actor: Identity, reference: str) -> AgentRecord:
        agent = await self.get(reference)
        if actor.kind == AGENT:
            # An agent's own key: that agent, never its siblings.
            if agent.id != actor.subject:
                raise Forbidden("An agent's key may change only that agent.")
        elif agent.developer_id != actor.subject and not actor.has_role(ADMIN):
            raise Forbidden("Only the agent's developer or an admin may change it.")
        return agent

    async def _card_document(self, fields: dict[str, Any]) -> Any:
        if "card" in fields:
            return fields["card"]
        if "card_url" in fields:
            return await self.cards.fetch(fields["card_url"])
        return None

    async def card(self, agent: AgentRecord) -> StoredCard:
        return await self.cards.load(agent)
