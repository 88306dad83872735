"""gunicorn settings for the registry: ``gunicorn -c deploy/gunicorn.conf.py``.

Every value can be overridden from the environment (``GUNICORN_*`` below) or the command line.
The registry's own settings come from ``AVREG_CONFIG`` / ``AVREG_*`` as with ``serve``.
"""

import os
import shutil

from prometheus_client import multiprocess

wsgi_app = "agentvault_registry.wsgi:create"
worker_class = "aiohttp.GunicornWebWorker"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8080")
# Two per core is aiohttp's usual figure: each worker is one event loop on one core.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# A request in flight gets this long to finish on reload or shutdown (SIGTERM).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# A worker whose event loop is blocked this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
keepalive = 75
# The app is created in each worker after the fork (aiohttp's worker awaits the factory), so
# no pool or socket is shared across processes; preloading would gain nothing.
preload_app = False

# aiohttp's access log format (not gunicorn's %(x)s form: aiohttp's worker refuses it): the
# registry's line plus the worker pid. The JSON access logger the registry uses under
# ``serve`` is agentvault_registry.core.logs.AccessLogger.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
access_log_format = '%a "%r" %s %b %Tfs "%{User-Agent}i" request_id=%{X-Request-ID}o pid=%P'
errorlog = "-"

# prometheus-client's multiprocess mode: each worker writes its samples to files in this
# directory and /metrics adds them up. Files left by a previous run would be counted again.
PROMETHEUS_MULTIPROC_DIR = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", "/tmp/agentvault-registry-metrics"
)


def on_starting(server):
    shutil.rmtree(PROMETHEUS_MULTIPROC_DIR, ignore_errors=True)
    os.makedirs(PROMETHEUS_MULTIPROC_DIR, exist_ok=True)


def child_exit(server, worker):
    # A dead worker's live gauges must stop counting; its counters stay in the totals.
    multiprocess.mark_process_dead(worker.pid)
