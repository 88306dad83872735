"""The conformance suite of the federation records every records backend must pass."""

from __future__ import annotations

from .federation_health import FederationHealth
from .federation_mirror import FederationMirror
from .federation_peers import FederationPeers


class FederationConformance(FederationPeers, FederationHealth, FederationMirror):
    """Peer registries and their mirrored agents in a :class:`RecordsBackend` (its
    :class:`~agentvault_registry.storage_backends.federation.FederationRecords` part).

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """
