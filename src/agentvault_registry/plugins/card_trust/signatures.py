"""Checking the signatures an Agent Card carries (A2A §8.4).

A signature's key comes from the JWK Set its protected header names (``jku``), else from
``/.well-known/jwks.json`` at the card provider's origin, then at each interface's origin.
The host that published the key is the domain that vouches for the card, and it must cover
every interface host (the same host, or a parent domain of it): a card signed for one host
and registered with interfaces on another is ``invalid``, so a signed card cannot be
laundered onto somebody else's endpoints.

A card is ``valid`` when one of its signatures holds, ``invalid`` when none does and at
least one was checked and failed, and ``unverifiable`` when no key could be had.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agentvault_registry.core import jws
from agentvault_registry.core.jwks import JwksFetcher, KeysUnavailable, jwks_url

NONE = "none"
VALID = "valid"
INVALID = "invalid"
UNVERIFIABLE = "unverifiable"
#: More signatures than this on one card are not checked (each may cost key fetches).
MAX_SIGNATURES = 5
#: Origins asked for keys per signature (the provider's, then the interfaces').
MAX_ORIGINS = 4


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str | None = None
    kid: str | None = None
    domain: str | None = None

    def as_record(self, checked_at: dt.datetime) -> dict[str, Any]:
        """What the agent keeps as its ``signature``."""
        record: dict[str, Any] = {"status": self.status, "checked_at": checked_at.isoformat()}
        for name in ("kid", "domain", "reason"):
            if getattr(self, name) is not None:
                record[name] = getattr(self, name)
        return record


def host_of(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def covers(domain: str, host: str) -> bool:
    """Whether keys published by ``domain`` vouch for ``host``: the same host or one of its
    subdomains (an address only for itself)."""
    return host == domain or host.endswith("." + domain)


def origin_of(url: Any) -> str | None:
    if host_of(url) is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def interface_urls(card: Mapping[str, Any]) -> list[str]:
    return [
        interface["url"]
        for interface in card.get("supportedInterfaces", ())
        if isinstance(interface, Mapping) and isinstance(interface.get("url"), str)
    ]


class CardSignatures:
    def __init__(self, fetcher: JwksFetcher) -> None:
        self.fetcher = fetcher

    async def check(
        self, document: Mapping[str, Any], card: Mapping[str, Any], member: str
    ) -> Verdict:
        """The verdict on ``document``'s signatures (``card`` is it normalized)."""
        signatures = document.get(member)
        if signatures is None or signatures == []:
            return Verdict(NONE)
        if not isinstance(signatures, list):
            return Verdict(INVALID, f"{member} must be a list of signatures")
        if len(signatures) > MAX_SIGNATURES:
            return Verdict(INVALID, f"more than {MAX_SIGNATURES} signatures")
        try:
            payloads = self._payloads(document, member)
        except jws.SignatureProblem as exc:
            return Verdict(INVALID, str(exc))
        verdicts = [await self._check_one(entry, payloads, card) for entry in signatures]
        for status in (VALID, INVALID):
            for verdict in verdicts:
                if verdict.status == status:
                    return verdict
        return verdicts[0]

    @staticmethod
    def _payloads(document: Mapping[str, Any], member: str) -> list[bytes]:
        """The bytes a signer may have signed: the card as it is, and (as the a2a-sdk signs)
        without its empty values."""
        exact = jws.canonical_payload(document, member)
        compact = jws.without_empty_values({k: v for k, v in document.items() if k != member})
        variants = [exact]
        if compact:
            cleaned = jws.canonical_payload(compact, member)
            if cleaned != exact:
                variants.append(cleaned)
        return variants

    async def _check_one(
        self, entry: Any, payloads: list[bytes], card: Mapping[str, Any]
    ) -> Verdict:
        try:
            header = jws.protected_header(entry)
            kid = jws.key_id(entry, header)
        except jws.SignatureProblem as exc:
            return Verdict(INVALID, str(exc))
        hosts = [host for host in map(host_of, interface_urls(card)) if host is not None]
        jku = header.get("jku")
        if jku is not None:
            return await self._check_with_jku(entry, payloads, kid, jku, hosts)
        return await self._check_at_origins(entry, payloads, kid, card, hosts)

    async def _check_with_jku(
        self, entry: Mapping[str, Any], payloads: list[bytes], kid: str, jku: Any, hosts: list[str]
    ) -> Verdict:
        domain = host_of(jku)
        if domain is None:
            return Verdict(INVALID, "jku is not a URL", kid)
        # Checked before anything is fetched: keys from elsewhere vouch for nothing here.
        uncovered = _uncovered(domain, hosts)
        if uncovered:
            return _domain_mismatch(kid, domain, uncovered)
        try:
            keys = await self.fetcher.keys(jku)
        except KeysUnavailable as exc:
            return Verdict(UNVERIFIABLE, exc.reason, kid, domain)
        return _verified(entry, payloads, kid, domain, keys, jku)

    async def _check_at_origins(
        self,
        entry: Mapping[str, Any],
        payloads: list[bytes],
        kid: str,
        card: Mapping[str, Any],
        hosts: list[str],
    ) -> Verdict:
        provider = card.get("provider")
        provider_url = provider.get("url") if isinstance(provider, Mapping) else None
        problems: list[str] = []
        keys_elsewhere = False
        origins = _distinct([origin_of(provider_url), *map(origin_of, interface_urls(card))])
        for origin in origins[:MAX_ORIGINS]:
            url = jwks_url(origin)
            try:
                keys = await self.fetcher.keys(url)
            except KeysUnavailable as exc:
                problems.append(exc.reason)
                continue
            if not any(key.get("kid") == kid for key in keys):
                problems.append(f"key {kid!r} is not published at {url}")
                keys_elsewhere = True
                continue
            domain = host_of(origin)
            assert domain is not None
            uncovered = _uncovered(domain, hosts)
            if uncovered:
                return _domain_mismatch(kid, domain, uncovered)
            return _verified(entry, payloads, kid, domain, keys, url)
        if not problems:
            return Verdict(UNVERIFIABLE, "the card names no origin to fetch keys from", kid)
        reason = "; ".join(problems)
        # Keys were had, and none is the signer's: nobody vouches for that key.
        if keys_elsewhere:
            return Verdict(INVALID, reason, kid)
        return Verdict(UNVERIFIABLE, reason, kid)


def _verified(
    entry: Mapping[str, Any],
    payloads: list[bytes],
    kid: str,
    domain: str,
    keys: Iterable[Mapping[str, Any]],
    url: str,
) -> Verdict:
    key = next((key for key in keys if key.get("kid") == kid), None)
    if key is None:
        return Verdict(INVALID, f"key {kid!r} is not published at {url}", kid, domain)
    problem = ""
    for payload in payloads:
        try:
            jws.verify(payload, entry, key)
        except jws.SignatureProblem as exc:
            problem = str(exc)
            continue
        return Verdict(VALID, None, kid, domain)
    return Verdict(INVALID, problem, kid, domain)


def _uncovered(domain: str, hosts: list[str]) -> list[str]:
    return sorted({host for host in hosts if not covers(domain, host)})


def _domain_mismatch(kid: str, domain: str, uncovered: list[str]) -> Verdict:
    return Verdict(
        INVALID,
        f"the key's domain {domain} does not cover the interface host(s) {', '.join(uncovered)}",
        kid,
        domain,
    )


def _distinct(origins: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(origin for origin in origins if origin is not None))
