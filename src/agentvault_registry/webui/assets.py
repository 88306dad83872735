"""The web UI's static files, under a URL that changes whenever any of them changes.

Every asset is served below ``/static/webui/<version>/``, where the version is a digest of all
the files. The URLs can therefore be cached for a year, and the ES modules' relative imports
stay inside one version. A page loaded before an upgrade may still ask for the old version;
it gets today's file, uncached, rather than a 404.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from aiohttp import web

from agentvault_registry.core.errors import NotFound

STATIC = Path(__file__).parent / "static"
PREFIX = "/static/webui"
IMMUTABLE = "public, max-age=31536000, immutable"

#: Types aiohttp's own table may lack (it depends on the system's mime.types); under nosniff
#: a font served as application/octet-stream is refused.
CONTENT_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".svg": "image/svg+xml"}


@functools.cache
def asset_version() -> str:
    """A digest of every static file's path and content, read once: the package's files do
    not change while it runs."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def asset_base() -> str:
    return f"{PREFIX}/{asset_version()}"


def asset_url(relative: str) -> str:
    return f"{asset_base()}/{relative}"


async def serve_asset(request: web.Request) -> web.FileResponse:
    try:
        path = (STATIC / request.match_info["path"]).resolve()
        found = path.is_relative_to(STATIC.resolve()) and path.is_file()
    except (ValueError, OSError):
        # A NUL byte or a name longer than the filesystem allows: no such file either.
        found = False
    if not found:
        raise NotFound("No such web UI asset.")
    response = web.FileResponse(path)
    if path.suffix in CONTENT_TYPES:
        response.headers["Content-Type"] = CONTENT_TYPES[path.suffix]
    current = request.match_info["version"] == asset_version()
    response.headers["Cache-Control"] = IMMUTABLE if current else "no-cache"
    return response
