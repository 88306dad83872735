"""A fake SPIFFE Workload API (the SPIRE agent's side) served over gRPC on a unix socket.

It is built on py-spiffe's own generated protocol modules, so the real ``WorkloadApiClient``,
``X509Source`` and ``JwtSource`` run against it unchanged. Like SPIRE's agent it insists on
the ``workload.spiffe.io: true`` header, streams X.509 and JWT material and pushes an update
on every rotation, and refuses JWT-SVIDs for identities the workload is not entitled to.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
import jwt
from cryptography.utils import CryptographyDeprecationWarning
from google.protobuf import struct_pb2
from google.protobuf.message import Message
from pki import CertificateAuthority, IssuedSvid, JwtAuthority

with warnings.catch_warnings():
    # Importing spiffe touches cryptography's deprecated DSA API; the suite runs with
    # filterwarnings = error.
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from spiffe._proto import workload_pb2, workload_pb2_grpc

_SECURITY_HEADER = ("workload.spiffe.io", "true")
# Every open stream holds a worker thread; past the limit gRPC answers RESOURCE_EXHAUSTED
# rather than queueing the call, so a test that leaks streams fails instead of hanging.
_MAX_WORKERS = 8
_STOP_GRACE_SECONDS = 1.0
_NOTHING_SENT = object()


def _trust_domain_id(trust_domain: str) -> str:
    # SPIRE keys bundle maps by the trust domain's SPIFFE ID, not its bare name.
    return f"spiffe://{trust_domain}"


class FakeWorkloadApi(workload_pb2_grpc.SpiffeWorkloadAPIServicer):
    """Serve ``svids`` (the first is the default) from ``ca`` and JWT-SVIDs from
    ``jwt_authority`` at ``socket_path``.

    ``jwt_identities`` are the SPIFFE IDs a JWT-SVID may be requested for by name; by default
    those of the current X.509-SVIDs. ``entitle(ids)`` changes them, as a new SPIRE
    registration entry would. ``stop()`` then ``start()`` simulates an agent restart.
    """

    def __init__(
        self,
        socket_path: str | Path,
        *,
        ca: CertificateAuthority,
        svids: Iterable[IssuedSvid],
        jwt_authority: JwtAuthority,
        jwt_identities: set[str] | None = None,
    ) -> None:
        self.socket_path = Path(socket_path).absolute()
        self.calls: list[tuple[str, object]] = []
        self._ca = ca
        self._svids = list(svids)
        self._jwt_authority = jwt_authority
        self._jwt_identities = jwt_identities
        self._federated: list[CertificateAuthority] = []
        # One condition guards all mutable state; streams wait on it for rotations.
        self._changed = threading.Condition()
        self._stopping = False
        self._server: grpc.Server | None = None
        self._executor: ThreadPoolExecutor | None = None

    # ---------------------------------------------------------------- control from tests

    @property
    def endpoint(self) -> str:
        """The value SPIFFE_ENDPOINT_SOCKET would hold for this agent."""
        return f"unix://{self.socket_path}"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the fake Workload API is already running")
        with self._changed:
            self._stopping = False
        self._executor = ThreadPoolExecutor(_MAX_WORKERS, thread_name_prefix="fake-workload-api")
        self._server = grpc.server(self._executor, maximum_concurrent_rpcs=_MAX_WORKERS)
        workload_pb2_grpc.add_SpiffeWorkloadAPIServicer_to_server(self, self._server)
        self._server.add_insecure_port(f"unix:{self.socket_path}")
        self._server.start()

    def stop(self) -> None:
        """Go away like a dying agent: open streams end with UNAVAILABLE, threads are joined."""
        if self._server is None or self._executor is None:
            return
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._server.stop(_STOP_GRACE_SECONDS).wait()
        # grpc does not own the executor it was given; joining it proves no handler lingers.
        self._executor.shutdown(wait=True)
        self._server = self._executor = None

    def __enter__(self) -> FakeWorkloadApi:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def rotate_x509(
        self, svids: Iterable[IssuedSvid], ca: CertificateAuthority | None = None
    ) -> None:
        """Replace the X.509-SVIDs (and the CA). Each open stream pushes its response if it
        changed; an empty list is the agent losing every registration entry of the workload."""
        with self._changed:
            self._svids = list(svids)
            if ca is not None:
                self._ca = ca
            self._changed.notify_all()

    def federate(self, *cas: CertificateAuthority) -> None:
        """Trust these other trust domains too, as SPIRE does once federated with them: their
        bundles go out beside ours."""
        with self._changed:
            self._federated = list(cas)
            self._changed.notify_all()

    def entitle(self, jwt_identities: set[str]) -> None:
        with self._changed:
            self._jwt_identities = set(jwt_identities)

    def rotate_jwt_authority(self, authority: JwtAuthority) -> None:
        """Sign with ``authority`` from now on and publish only its key in the JWT bundle."""
        with self._changed:
            self._jwt_authority = authority
            self._changed.notify_all()

    def requests_for(self, method: str) -> list[Any]:
        """The requests received so far by one RPC, e.g. ``"FetchJWTSVID"``."""
        with self._changed:
            return [request for name, request in self.calls if name == method]

    # ---------------------------------------------------------------- the Workload API

    def FetchX509SVID(self, request: Any, context: grpc.ServicerContext) -> Iterator[Message]:
        self._begin("FetchX509SVID", request, context)
        return self._watch(context, self._x509_svid_response)

    def FetchX509Bundles(self, request: Any, context: grpc.ServicerContext) -> Iterator[Message]:
        self._begin("FetchX509Bundles", request, context)
        return self._watch(context, self._x509_bundles_response)

    def FetchJWTBundles(self, request: Any, context: grpc.ServicerContext) -> Iterator[Message]:
        self._begin("FetchJWTBundles", request, context)
        return self._watch(context, self._jwt_bundles_response)

    def FetchJWTSVID(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._begin("FetchJWTSVID", request, context)
        if not request.audience:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "audience must be specified")
        with self._changed:
            ids = [svid.spiffe_id for svid in self._svids]
            entitled = set(ids) if self._jwt_identities is None else self._jwt_identities
            authority = self._jwt_authority
        spiffe_id = request.spiffe_id or (ids[0] if ids else "")
        if not spiffe_id or (request.spiffe_id and spiffe_id not in entitled):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "no identity issued")
        token = authority.issue_jwt_svid(spiffe_id, list(request.audience))
        return workload_pb2.JWTSVIDResponse(
            svids=[workload_pb2.JWTSVID(spiffe_id=spiffe_id, svid=token)]
        )

    def ValidateJWTSVID(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._begin("ValidateJWTSVID", request, context)
        if not request.audience or not request.svid:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "audience and svid must be specified")
        with self._changed:
            authority = self._jwt_authority
        try:
            claims = _verify_jwt_svid(request.svid, request.audience, authority)
        except jwt.PyJWTError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unable to validate JWT-SVID: {error}")
        struct = struct_pb2.Struct()
        struct.update(claims)
        return workload_pb2.ValidateJWTSVIDResponse(spiffe_id=claims["sub"], claims=struct)

    # ---------------------------------------------------------------- internals

    def _begin(self, method: str, request: object, context: grpc.ServicerContext) -> None:
        with self._changed:
            self.calls.append((method, request))
        if _SECURITY_HEADER not in (context.invocation_metadata() or ()):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "security header missing from request")

    def _watch(
        self, context: grpc.ServicerContext, build: Callable[[], Message | None]
    ) -> Iterator[Message]:
        """Stream ``build()`` now and again whenever a rotation changes it.

        ``build`` runs under the lock and returns None when the workload has no identity.
        """
        # Without this a client's cancel or deadline would leave the wait below asleep.
        context.add_callback(self._wake)
        sent: object = _NOTHING_SENT
        while True:
            with self._changed:
                while not self._stopping and context.is_active() and build() == sent:
                    self._changed.wait()
                stopping, response = self._stopping, build()
            if stopping:
                context.abort(grpc.StatusCode.UNAVAILABLE, "the agent is shutting down")
            if not context.is_active():
                return
            if response is None:
                context.abort(grpc.StatusCode.PERMISSION_DENIED, "no identity issued")
            sent = response
            yield response

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _x509_svid_response(self) -> Message | None:
        if not self._svids:
            return None
        return workload_pb2.X509SVIDResponse(
            svids=[
                workload_pb2.X509SVID(
                    spiffe_id=svid.spiffe_id,
                    x509_svid=svid.chain_der,
                    x509_svid_key=svid.key_der,
                    bundle=self._ca.bundle_der,
                )
                for svid in self._svids
            ],
            federated_bundles={
                _trust_domain_id(ca.trust_domain): ca.bundle_der for ca in self._federated
            },
        )

    def _x509_bundles_response(self) -> Message:
        return workload_pb2.X509BundlesResponse(
            bundles={_trust_domain_id(self._ca.trust_domain): self._ca.bundle_der}
        )

    def _jwt_bundles_response(self) -> Message:
        authority = self._jwt_authority
        return workload_pb2.JWTBundlesResponse(
            bundles={_trust_domain_id(authority.trust_domain): authority.jwks_bytes()}
        )


def _verify_jwt_svid(token: str, audience: str, authority: JwtAuthority) -> dict[str, Any]:
    # The agent looks the signing key up by kid in its bundle; ours holds exactly one key.
    if jwt.get_unverified_header(token).get("kid") != authority.kid:
        raise jwt.InvalidTokenError("the token's key ID is not in the bundle")
    return jwt.decode(
        token,
        authority.public_key,
        algorithms=[authority.algorithm],
        audience=audience,
        options={"require": ["sub", "aud", "exp"]},
    )
