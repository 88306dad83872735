"""State the TEG bridge keeps in the app."""

from __future__ import annotations

import contextlib

from aiohttp import web

from agentvault_registry.core.signing_keys import KeyRing
from agentvault_registry.plugins.teg_bridge.service import TegTokenService

TEG_SERVICE = web.AppKey("teg_token_service", TegTokenService)
#: The assertion signing keys: the current one and the retired ones still published.
KEY_RING = web.AppKey("teg_key_ring", KeyRing)
#: Closes the bridge's own outbound client: its address policy may allow a private TEG
#: without allowing private agent-card fetches, and it never follows redirects.
CLOSE_ON_SHUTDOWN = web.AppKey("teg_close_on_shutdown", contextlib.AsyncExitStack)
