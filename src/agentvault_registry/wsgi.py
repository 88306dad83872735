"""The registry under gunicorn, one app per worker process::

    gunicorn 'agentvault_registry.wsgi:create' --worker-class aiohttp.GunicornWebWorker

aiohttp's worker awaits :func:`create` after the fork, so every worker opens its own pools.
The configuration is read as ``agentvault-registry serve`` reads it (``AVREG_CONFIG`` and
``AVREG_*`` variables); gunicorn's own options choose the address, so ``server.host`` and
``server.port`` are not used here. Workers starting together may all run the migrations:
PostgreSQL serialises them with an advisory lock, and each worker finds the others' work done.
TLS served by the registry itself (``spiffe_identity``) needs ``serve``: gunicorn's workers
take gunicorn's ``certfile``/``keyfile`` instead.
"""

from __future__ import annotations

import logging

from aiohttp import web

from agentvault_registry.config.loader import load_configuration
from agentvault_registry.core.app import serving_app
from agentvault_registry.core.errors import ConfigError

log = logging.getLogger(__name__)

#: gunicorn's exit status for a worker that cannot boot: the arbiter stops instead of
#: forking the same failure again and again.
WORKER_BOOT_ERROR = 3


async def create() -> web.Application:
    try:
        settings, pm = load_configuration(None)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("configuration: %s", problem)
        raise SystemExit(WORKER_BOOT_ERROR) from None
    return serving_app(settings, pm)
