"""The conformance suite of the discovery records every records backend must pass."""

from __future__ import annotations

from .discovery_facets import DiscoveryFacets
from .discovery_index import DiscoveryIndex
from .discovery_matching import DiscoveryMatching
from .discovery_order import DiscoveryOrder
from .discovery_scale import DiscoveryScale


class DiscoveryConformance(
    DiscoveryMatching, DiscoveryOrder, DiscoveryFacets, DiscoveryIndex, DiscoveryScale
):
    """Search, facets and bulk import of a :class:`RecordsBackend` (its
    :class:`~agentvault_registry.storage_backends.discovery.DiscoveryRecords` part).

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """
