"""The SSRF-safe HTTP client every server-side fetch of a user-supplied URL goes through.

Views and services take the app's client and let its errors through (both answer 422)::

    client = request.app[HTTP_CLIENT]
    card = (await client.get_json(url)).json

Configured by the ``[outbound]`` section; ``allow_private_targets`` lets it reach loopback
and private networks (tests, a private federation).
"""

from agentvault_registry.core.httpclient.addresses import is_global_address
from agentvault_registry.core.httpclient.client import FetchResult, SafeHttpClient
from agentvault_registry.core.httpclient.lifecycle import http_client_context

__all__ = ["FetchResult", "SafeHttpClient", "http_client_context", "is_global_address"]
