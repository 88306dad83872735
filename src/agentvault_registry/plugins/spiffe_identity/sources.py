"""Where the registry's SVIDs and trust bundles come from.

A source keeps one :class:`IdentityMaterial` current and tells listeners when it changes. The
null source (SPIFFE off) has none; :class:`FileSource` reads what a SPIRE helper writes to
disk; the Workload API source (:mod:`.workload_api`) asks the SPIRE agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from agentvault_registry.plugins.spiffe_identity.library import spiffe
from agentvault_registry.plugins.spiffe_identity.material import IdentityMaterial

log = logging.getLogger(__name__)

Listener = Callable[[IdentityMaterial], None]


class SourceProblem(Exception):
    """The source cannot offer (new) material; the message says why, without secrets."""


class SvidDenied(SourceProblem):
    """The source refused an SVID this workload is not entitled to: asking again will not
    help until the SPIRE registration changes."""


@dataclass(frozen=True)
class RegistryIdentity:
    trust_domain: str
    #: The SPIFFE ID our X.509-SVID must carry.
    spiffe_id: str


class SvidSource:
    """The null source, and the base of the real ones: no SVID, no bundle, nothing to fetch."""

    kind = "none"

    def __init__(self) -> None:
        self.material = IdentityMaterial()
        self._listeners: list[Listener] = []

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        """Get the first material (one attempt, bounded in time), then keep it current."""

    async def close(self) -> None:
        """Stop keeping the material current; idempotent."""

    async def fetch_jwt_svid(self, spiffe_id: str, audience: str) -> str | None:
        """A JWT-SVID for ``spiffe_id`` (one of the identities this workload may obtain),
        or None when this source cannot mint JWT-SVIDs at all."""
        return None

    def _replace(self, **material: Any) -> None:
        current = self.material
        self.material = IdentityMaterial(
            **material, updated_at=dt.datetime.now(dt.UTC), generation=current.generation + 1
        )
        if current.problem is not None:
            log.info("spiffe_identity: %s source recovered", self.kind)
        for listener in self._listeners:
            try:
                listener(self.material)
            except Exception:
                # One listener failing (a TLS context that would not build) must neither
                # stop the others nor the source that keeps the material current.
                log.exception("spiffe_identity: a listener failed on new material")

    def _report(self, problem: str) -> None:
        """Keep the last good material, and say why nothing newer is available (logged once
        per distinct problem, not every time the source retries)."""
        if problem != self.material.problem:
            log.warning("spiffe_identity: %s source: %s", self.kind, problem)
        self.material = dataclasses.replace(self.material, problem=problem)


@dataclass(frozen=True)
class SvidFiles:
    cert: Path
    key: Path
    bundle: Path
    jwt_bundle: Path | None = None

    def paths(self) -> tuple[Path, ...]:
        return tuple(path for path in dataclasses.astuple(self) if path is not None)


class FileSource(SvidSource):
    """SVID, key and bundles from files a SPIRE helper keeps up to date; re-read whenever one
    of them changes (checked every ``interval`` seconds), without a restart. A change that
    does not load (a certificate replaced before its key, say) keeps the previous material
    until the next check finds a consistent set."""

    kind = "files"

    def __init__(self, identity: RegistryIdentity, files: SvidFiles, interval: float) -> None:
        super().__init__()
        self.identity = identity
        self.files = files
        self.interval = interval
        self._seen: tuple[Any, ...] | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._check()
        self._watcher = asyncio.create_task(self._watch(), name="spiffe_identity.watch_files")

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._check()
            except Exception as exc:
                # Whatever went wrong this round, the next one looks again.
                log.exception("spiffe_identity: checking the SVID files failed")
                self._report(f"checking the SVID files failed: {type(exc).__name__}")

    async def _check(self) -> None:
        seen = self._file_states()
        if seen == self._seen:
            return
        try:
            material = await asyncio.to_thread(self._load)
        except SourceProblem as exc:
            self._report(str(exc))
        else:
            self._replace(**material)
        # A set that failed to load is not tried again until one of its files changes.
        self._seen = seen

    def _file_states(self) -> tuple[Any, ...]:
        states = []
        for path in self.files.paths():
            try:
                stat = path.stat()
            except OSError:
                states.append(None)
            else:
                states.append((stat.st_ino, stat.st_mtime_ns, stat.st_size))
        return tuple(states)

    def _load(self) -> dict[str, Any]:
        library = spiffe()
        trust_domain = library.TrustDomain(self.identity.trust_domain)
        pem = serialization.Encoding.PEM
        try:
            svid = library.X509Svid.load(self.files.cert, self.files.key, pem)
            bundle = library.X509Bundle.load(trust_domain, self.files.bundle, pem)
            jwt_bundle = None
            if self.files.jwt_bundle is not None:
                jwt_bundle = library.JwtBundle.parse(
                    trust_domain, self.files.jwt_bundle.read_bytes()
                )
        except (library.errors.PySpiffeError, OSError) as exc:
            raise SourceProblem(f"the SVID files do not load: {exc}") from None
        check_svid(svid, self.identity)
        return {"svid": svid, "x509_bundles": (bundle,), "jwt_bundle": jwt_bundle}


def check_svid(svid: Any, identity: RegistryIdentity) -> None:
    """Refuse an SVID that is not ours, or whose key is not the certificate's."""
    if str(svid.spiffe_id) != identity.spiffe_id:
        raise SourceProblem(f"the SVID is for {svid.spiffe_id}, not {identity.spiffe_id}")
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if svid.private_key.public_key().public_bytes(der, spki) != svid.leaf.public_key().public_bytes(
        der, spki
    ):
        raise SourceProblem("the SVID's private key does not match its certificate")


def environment_socket() -> str | None:
    return os.environ.get("SPIFFE_ENDPOINT_SOCKET") or None
