"""What the card_trust plugin does: checks the signatures of the cards developers register,
and signs what the registry serves."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core import jws
from agentvault_registry.core.errors import ValidationFailed
from agentvault_registry.core.jwks import JwksFetcher
from agentvault_registry.core.signing_keys import KeyRing
from agentvault_registry.plugins.card_trust.signatures import (
    UNVERIFIABLE,
    VALID,
    CardSignatures,
    Verdict,
)

#: Signatures of recently served documents kept, by payload digest: the same card is served
#: many times, and an EdDSA signature of the same bytes is the same signature.
SIGNATURE_CACHE_SIZE = 1_024


@dataclass(frozen=True)
class TrustPolicy:
    require_signed_cards: bool
    sign_served_cards: bool


class CardTrustService:
    def __init__(
        self,
        policy: TrustPolicy,
        fetcher: JwksFetcher,
        keys: KeyRing,
        deadline: float,
    ) -> None:
        self.policy = policy
        #: Seconds all of a card's signatures may take to check, key fetches included.
        self.deadline = deadline
        self.keys = keys
        self.signatures = CardSignatures(fetcher)
        self._signed: OrderedDict[str, dict[str, str]] = OrderedDict()

    async def check_card(
        self, document: Mapping[str, Any], card: Mapping[str, Any], member: str
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.deadline):
                verdict = await self.signatures.check(document, card, member)
        except TimeoutError:
            verdict = Verdict(UNVERIFIABLE, f"the keys did not arrive within {self.deadline:g} s")
        if self.policy.require_signed_cards and verdict.status != VALID:
            reason = verdict.reason or "the card is not signed"
            raise ValidationFailed(
                "This registry accepts only cards with a valid signature.",
                details={"card": {member: [f"{verdict.status}: {reason}"]}},
            )
        return verdict.as_record(dt.datetime.now(dt.UTC))

    def sign(self, document: Mapping[str, Any], member: str, jku: str) -> dict[str, str] | None:
        """The registry's signature of ``document``; ``jku``: where its JWK Set is served."""
        key = self.keys.current
        if key is None or not self.policy.sign_served_cards:
            return None
        payload = jws.canonical_payload(document, member)
        digest = hashlib.sha256(payload + jku.encode()).hexdigest() + key.kid
        signature = self._signed.get(digest)
        if signature is None:
            signature = jws.sign(payload, key, {"jku": jku})
            self._signed[digest] = signature
            if len(self._signed) > SIGNATURE_CACHE_SIZE:
                self._signed.popitem(last=False)
        else:
            self._signed.move_to_end(digest)
        return signature
