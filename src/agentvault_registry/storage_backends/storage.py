"""The app's three backends, chosen by config, opened and closed together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import pluggy

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.core.plugins import results_by_plugin
from agentvault_registry.storage_backends.base import (
    Backend,
    BlobBackend,
    CacheBackend,
    RecordsBackend,
)
from agentvault_registry.storage_backends.spec import KINDS, BackendContext, BackendSpec

log = logging.getLogger(__name__)

#: How long ``/ready`` waits for one backend before calling it down.
PING_TIMEOUT = 3.0


def collect_backend_specs(pm: pluggy.PluginManager) -> dict[tuple[str, str], BackendSpec]:
    """Every backend the loaded plugins offer, by (kind, name)."""
    specs: dict[tuple[str, str], BackendSpec] = {}
    for plugin, registered in results_by_plugin(pm.hook.register_storage_backends):
        for spec in registered or ():
            key = (spec.kind, spec.name)
            if key in specs:
                raise ConfigError(
                    f"plugin {plugin!r} registers {spec.kind} backend "
                    f"{spec.name!r}, which another plugin already registered"
                )
            specs[key] = spec
    return specs


def names_of_kind(specs: Mapping[tuple[str, str], BackendSpec], kind: str) -> list[str]:
    return sorted(name for (spec_kind, name) in specs if spec_kind == kind)


@dataclass
class Storage:
    records: RecordsBackend
    cache: CacheBackend
    blobs: BlobBackend

    def backends(self) -> dict[str, Backend]:
        return {kind: getattr(self, kind) for kind in KINDS}

    async def open(self) -> None:
        opened: list[Backend] = []
        try:
            for backend in self.backends().values():
                await backend.open()
                opened.append(backend)
                log.info("storage %s backend open: %s", backend.kind, backend.describe())
        except BaseException:
            for backend in reversed(opened):
                await backend.close()
            raise

    async def close(self) -> None:
        for backend in reversed(list(self.backends().values())):
            try:
                await backend.close()
            except Exception:  # closing must go on for the others whatever one raised
                log.exception("closing the %s backend failed", backend.kind)

    async def ping_all(self) -> dict[str, str | None]:
        """``{kind: None}`` for each backend that answers, ``{kind: reason}`` otherwise."""
        kinds = list(self.backends())
        results = await asyncio.gather(
            *(self._ping(backend) for backend in self.backends().values())
        )
        return dict(zip(kinds, results, strict=True))

    @staticmethod
    async def _ping(backend: Backend) -> str | None:
        try:
            await asyncio.wait_for(backend.ping(), PING_TIMEOUT)
        except BackendError as exc:
            return exc.message
        except TimeoutError:
            return f"no answer within {PING_TIMEOUT:g}s"
        return None


def configured_backend(settings: Settings, pm: pluggy.PluginManager, kind: str) -> Backend:
    """The unopened backend that config selects for ``kind`` (validated at load time)."""
    choice = settings.storage.choice(kind)
    spec = collect_backend_specs(pm)[(kind, choice.backend)]
    context = BackendContext(data_dir=settings.data_dir, production=settings.production)
    return spec.factory(choice.options, context)


def configured_storage(settings: Settings, pm: pluggy.PluginManager) -> Storage:
    return Storage(**{kind: configured_backend(settings, pm, kind) for kind in KINDS})
