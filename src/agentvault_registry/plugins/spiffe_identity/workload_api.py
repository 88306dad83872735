"""The SPIFFE Workload API as a source: the SPIRE agent's socket, through py-spiffe.

py-spiffe is synchronous: its X509Source and JwtSource watch the agent's streams in threads
of their own and call back from there, and every call that waits on the agent runs in a
worker thread here, so the event loop never blocks on the socket. The sources reconnect
after errors the protocol calls retryable; after any other error they close, and the
supervisor here opens new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from agentvault_registry.plugins.spiffe_identity.library import spiffe
from agentvault_registry.plugins.spiffe_identity.sources import (
    RegistryIdentity,
    SourceProblem,
    SvidDenied,
    SvidSource,
    check_svid,
)

log = logging.getLogger(__name__)
#: gRPC statuses of a Workload API that answered and said no (anything else may pass).
PERMANENT_REFUSALS = frozenset({"PERMISSION_DENIED", "INVALID_ARGUMENT"})


def _status_of(exc: Exception) -> str | None:
    """The gRPC status behind a py-spiffe error, which keeps the RpcError as its cause."""
    code = getattr(exc.__cause__, "code", None)
    return code().name if callable(code) else None


class WorkloadApiSource(SvidSource):
    kind = "workload_api"

    def __init__(
        self,
        identity: RegistryIdentity,
        socket: str,
        *,
        timeout: float,
        check_interval: float = 5.0,
    ) -> None:
        super().__init__()
        self.identity = identity
        self.socket = socket
        self.timeout = timeout
        self.check_interval = check_interval
        self._client: Any = None
        self._x509: Any = None
        self._jwt: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._connect()
        self._supervisor = asyncio.create_task(
            self._supervise(), name="spiffe_identity.workload_api"
        )

    async def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await asyncio.to_thread(_close_all, self._take_sources())

    async def fetch_jwt_svid(self, spiffe_id: str, audience: str) -> str | None:
        client = self._client
        if client is None:
            raise SourceProblem(self.material.problem or "not connected to the Workload API")
        library = spiffe()
        try:
            svid = await asyncio.to_thread(
                client.fetch_jwt_svid,
                {audience},
                library.SpiffeId(spiffe_id),
                timeout=self.timeout,
            )
        except library.errors.PySpiffeError as exc:
            reason = f"the Workload API issued no JWT-SVID for {spiffe_id}: {exc}"
            if _status_of(exc) in PERMANENT_REFUSALS:
                raise SvidDenied(reason) from None
            raise SourceProblem(reason) from None
        return str(svid.token)

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                await self._reconnect_if_closed()
            except Exception as exc:
                # Whatever went wrong this round, the next one tries again.
                log.exception("spiffe_identity: reconnecting to the Workload API failed")
                self._report(f"reconnecting to the Workload API failed: {type(exc).__name__}")

    async def _reconnect_if_closed(self) -> None:
        x509, jwt = self._x509, self._jwt
        if x509 is not None and not (x509.is_closed() or jwt.is_closed()):
            return
        if x509 is not None:
            self._report("the Workload API stream ended; reconnecting")
            await asyncio.to_thread(_close_all, self._take_sources())
        await self._connect()

    async def _connect(self) -> None:
        opening = asyncio.get_running_loop().run_in_executor(None, self._open_sources)
        try:
            # Shielded: a close() meanwhile must not abandon what the thread goes on opening.
            self._client, self._x509, self._jwt = await asyncio.shield(opening)
        except SourceProblem as exc:
            self._report(str(exc))
            return
        except asyncio.CancelledError:
            opening.add_done_callback(_close_when_opened)
            raise
        self._x509.subscribe_for_updates(self._changed_in_thread)
        self._jwt.subscribe_for_updates(self._changed_in_thread)
        self._refresh()

    def _open_sources(self) -> tuple[Any, Any, Any]:
        """A client and both sources, each waiting at most ``timeout`` for its first update."""
        library = spiffe()
        opened: list[Any] = []
        try:
            client = library.WorkloadApiClient(socket_path=self.socket)
            opened.append(client)
            x509 = library.X509Source(
                workload_api_client=client,
                timeout_in_seconds=self.timeout,
                svid_picker=self._pick_svid,
            )
            opened.append(x509)
            jwt = library.JwtSource(workload_api_client=client, timeout_in_seconds=self.timeout)
        except library.errors.PySpiffeError as exc:
            for resource in reversed(opened):
                resource.close()
            raise SourceProblem(
                f"the Workload API at {self.socket} is unavailable: {exc}"
            ) from None
        return client, x509, jwt

    def _pick_svid(self, svids: list[Any]) -> Any:
        """Ours, when the workload holds several identities; else the first (refused later)."""
        for svid in svids:
            if str(svid.spiffe_id) == self.identity.spiffe_id:
                return svid
        return svids[0]

    def _changed_in_thread(self) -> None:
        # Called from py-spiffe's watcher threads: the material is replaced on the loop.
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._refresh)

    def _refresh(self) -> None:
        x509, jwt = self._x509, self._jwt
        if x509 is None or jwt is None:
            return
        library = spiffe()
        try:
            # One snapshot: the SVID the picker chose, with the bundles that came with it.
            context = x509.get_x509_context()
            svid = context.default_svid
            bundles = tuple(context.x509_bundle_set.bundles)
            jwt_bundle = jwt.get_bundle_for_trust_domain(
                library.TrustDomain(self.identity.trust_domain)
            )
            check_svid(svid, self.identity)
        except (library.errors.PySpiffeError, SourceProblem) as exc:
            self._report(str(exc))
            return
        self._replace(svid=svid, x509_bundles=bundles, jwt_bundle=jwt_bundle)

    def _take_sources(self) -> tuple[Any, ...]:
        """Forget the open sources (on the loop, where _refresh reads them), to be closed."""
        taken = (self._x509, self._jwt, self._client)
        self._client = self._x509 = self._jwt = None
        return taken


def _close_all(resources: tuple[Any, ...]) -> None:
    for resource in resources:
        if resource is not None:
            resource.close()


def _close_when_opened(opening: asyncio.Future[tuple[Any, Any, Any]]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        client, x509, jwt = opening.result()
        _close_all((x509, jwt, client))
