"""State the federation plugin keeps in the app."""

from __future__ import annotations

import contextlib

from aiohttp import web

from agentvault_registry.plugins.federation.fanout import PeerQuerier
from agentvault_registry.plugins.federation.service import PeerService

PEER_SERVICE = web.AppKey("federation_peer_service", PeerService)
PEER_QUERIER = web.AppKey("federation_peer_querier", PeerQuerier)
#: Closes federation's own outbound client (its address policy may allow private peers
#: without allowing private agent-card fetches, and it never follows redirects).
CLOSE_ON_SHUTDOWN = web.AppKey("federation_close_on_shutdown", contextlib.AsyncExitStack)
