"""The registry's workload identity: its source, the TLS built on it, and what it vouches for."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from agentvault_registry.core.errors import (
    BadGateway,
    FetchRefused,
    InvalidCredentials,
    ServiceUnavailable,
)
from agentvault_registry.core.httpclient.tls import CertificateRefused, ServerIdentityContext
from agentvault_registry.plugins.spiffe_identity.material import (
    IdentityMaterial,
    describe_bundles,
    describe_certificate,
)
from agentvault_registry.plugins.spiffe_identity.sources import (
    SourceProblem,
    SvidDenied,
    SvidSource,
)
from agentvault_registry.plugins.spiffe_identity.tls import (
    NoSvid,
    RotatingServerContext,
    check_issued_within,
    check_spiffe_id,
    peer_client_context,
    trust_domain_of,
)
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.federation import PeerRecord

log = logging.getLogger(__name__)


class SvidRefused(BadGateway):
    code = "svid_refused"
    default_message = (
        "The SPIFFE Workload API refused a JWT-SVID for the agent: SPIRE does not entitle "
        "this registry to the agent's identity."
    )


class IdentityService:
    def __init__(
        self,
        source: SvidSource,
        options: Any,
        *,
        server_tls: RotatingServerContext | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.source = source
        self.options = options
        self.clock = clock
        #: Set when the registry listens with our SVID (``server_ssl_context`` was asked).
        self.server_tls = server_tls
        #: Client contexts per peer SPIFFE ID, for the current generation of material only.
        self._peer_contexts: dict[str, ServerIdentityContext] = {}
        source.on_change(self._material_changed)

    @property
    def material(self) -> IdentityMaterial:
        return self.source.material

    def _material_changed(self, material: IdentityMaterial) -> None:
        self._peer_contexts = {}
        if self.server_tls is not None:
            try:
                self.server_tls.update(material)
            except NoSvid as exc:
                log.warning("spiffe_identity: not serving TLS yet: %s", exc)

    # ---------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        material = self.material
        expires_at = material.expires_at
        return {
            "source": self.source.kind,
            "trust_domain": self.options["trust_domain"],
            "spiffe_id": self.options["spiffe_id"],
            "svid": None if material.svid is None else describe_certificate(material.svid.leaf),
            "svid_expires_at": None if expires_at is None else expires_at.isoformat(),
            "bundles": describe_bundles(material),
            "updated_at": None if material.updated_at is None else material.updated_at.isoformat(),
            "problem": material.problem,
            "serve_tls": self.options["serve_tls"],
            "federation_mtls": self.options["federation_mtls"],
        }

    async def check_ready(self) -> None:
        """Raise unless there is an unexpired SVID to work with. The reason is for anyone who
        probes /ready: the source's own words (file paths, socket errors) stay in the log and
        on the admin's status page."""
        material = self.material
        if material.expires_at is None:
            raise ServiceUnavailable("no X.509-SVID yet")
        if not material.svid_usable(self.clock()):
            raise ServiceUnavailable(f"the X.509-SVID expired at {material.expires_at.isoformat()}")

    # ------------------------------------------------------------- federation

    def peer_tls(self, peer: PeerRecord) -> ServerIdentityContext | None:
        """How to call ``peer``: over mTLS when federation requires it, else the default."""
        if not self.options["federation_mtls"]:
            return None
        if peer.spiffe_id is None:
            raise FetchRefused(
                url=peer.registry_url,
                reason="federation over mTLS needs the peer's spiffe_id; set it on the peer",
            )
        context = self._peer_contexts.get(peer.spiffe_id)
        if context is None:
            try:
                context = peer_client_context(self.material, peer.spiffe_id)
            except NoSvid as exc:
                raise FetchRefused(url=peer.registry_url, reason=str(exc)) from None
            self._peer_contexts[peer.spiffe_id] = context
        return context

    def verify_peer(self, peer: PeerRecord, ssl_object: Any) -> None:
        """Accept a peer's request only over TLS with the client certificate of its SPIFFE
        ID (the handshake already checked that it chains to a trusted bundle)."""
        if not self.options["federation_mtls"]:
            return
        if peer.spiffe_id is None:
            raise InvalidCredentials(
                "This registry federates over mTLS, and the peer has no SPIFFE ID configured."
            )
        certificate = None if ssl_object is None else ssl_object.getpeercert(binary_form=True)
        if certificate is None:
            raise InvalidCredentials(
                "This registry federates over mTLS: present your X.509-SVID as a client "
                "certificate."
            )
        try:
            check_spiffe_id(certificate, peer.spiffe_id)
            check_issued_within(certificate, self.material, trust_domain_of(peer.spiffe_id))
        except CertificateRefused as exc:
            raise InvalidCredentials(f"The client certificate is not the peer's: {exc}.") from None

    # ----------------------------------------------------------------- agents

    def agent_spiffe_id(self, agent: AgentRecord) -> str:
        return f"spiffe://{self.options['trust_domain']}{self.options['agent_path']}/{agent.id}"

    async def agent_assertion(self, agent: AgentRecord, audience: str) -> str | None:
        """A JWT-SVID for ``agent`` from the Workload API, or None when this source mints
        none (SVID files) or agents' JWT-SVIDs are turned off."""
        if not self.options["agent_jwt_svids"]:
            return None
        # The source's words (socket paths, SPIRE's messages) go to the log, not to agents.
        try:
            return await self.source.fetch_jwt_svid(self.agent_spiffe_id(agent), audience)
        except SvidDenied as exc:
            log.warning("spiffe_identity: %s", exc)
            raise SvidRefused() from None
        except SourceProblem as exc:
            log.warning("spiffe_identity: %s", exc)
            raise ServiceUnavailable(
                "The SPIFFE Workload API is unavailable; try again shortly."
            ) from None
