"""Agents authenticating with a JWT-SVID: ``Authorization: Bearer <JWT-SVID>``.

The token must be for this registry (``aud``), signed by a key of our trust domain's JWT
bundle, unexpired, and name ``spiffe://<trust domain>/agent/<agent id>``. SPIFFE IDs allow
neither ``:`` nor ``%`` in a path, so a DID cannot be spelled there: the path carries the
agent's id, which is also the method-specific part of its DID (``did:agentvault:<id>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt

from agentvault_registry.core.errors import InvalidCredentials, ServiceUnavailable
from agentvault_registry.core.identity import AGENT, Identity
from agentvault_registry.core.requests import is_uuid
from agentvault_registry.plugins.auth.scopes import AGENT_KEY_SCOPES
from agentvault_registry.plugins.spiffe_identity.library import spiffe, spiffe_module
from agentvault_registry.plugins.spiffe_identity.material import SPIFFE_SCHEME, IdentityMaterial
from agentvault_registry.storage_backends.agents import DELETED
from agentvault_registry.storage_backends.base import RecordsBackend

PLUGIN = "spiffe_identity"


def looks_like_jwt_svid(token: str) -> bool:
    """Whether ``token`` is a JWT naming a SPIFFE ID, judged without verifying it: any other
    bearer credential is some other plugin's."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, UnicodeError, TypeError):
        return False
    return isinstance(claims, dict) and str(claims.get("sub", "")).startswith(SPIFFE_SCHEME)


@dataclass(frozen=True)
class JwtSvidPolicy:
    trust_domain: str
    #: Audiences meaning "this registry": a token for any of them is accepted.
    audiences: frozenset[str]
    #: The path prefix of agents' SPIFFE IDs (``/agent/``).
    agent_path: str

    def agent_id_of(self, spiffe_id: Any) -> str:
        path = str(spiffe_id.path)
        agent_id = path.removeprefix(self.agent_path)
        if agent_id == path or not is_uuid(agent_id):
            raise InvalidCredentials(
                f"The JWT-SVID's SPIFFE ID {spiffe_id} does not name an agent "
                f"(spiffe://{self.trust_domain}{self.agent_path}<agent id>)."
            )
        return agent_id


def verified_svid(token: str, material: IdentityMaterial, policy: JwtSvidPolicy) -> Any:
    """The token as a ``spiffe.JwtSvid`` once verified; 401 saying what is wrong with it."""
    if material.jwt_bundle is None:
        # Not the caller's fault: the trust bundle has not arrived from the source yet.
        raise ServiceUnavailable("JWT-SVIDs cannot be verified yet: no trust bundle.")
    library = spiffe()
    _check_unverified_claims(token, policy.trust_domain, library)
    try:
        return library.JwtSvid.parse_and_validate(token, material.jwt_bundle, policy.audiences)
    except spiffe_module("bundle.jwt_bundle.errors").AuthorityNotFoundError:
        raise InvalidCredentials("The JWT-SVID is signed with a key not in the bundle.") from None
    except library.errors.PySpiffeError as exc:
        raise InvalidCredentials(_reason(exc.__cause__, policy.audiences)) from None


def _check_unverified_claims(token: str, trust_domain: str, library: Any) -> None:
    """What verification would not say plainly: a foreign trust domain (its key is merely
    unknown here), and a missing expiry or audience (which it would not even require)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    if not isinstance(claims.get("exp"), int | float) or not claims.get("aud"):
        raise InvalidCredentials("A JWT-SVID must carry an expiry (exp) and an audience (aud).")
    try:
        presented = str(library.SpiffeId(str(claims["sub"])).trust_domain)
    except library.errors.PySpiffeError:
        raise InvalidCredentials("The JWT-SVID's subject is not a valid SPIFFE ID.") from None
    if presented != trust_domain:
        raise InvalidCredentials(
            f"The JWT-SVID is from trust domain {presented}, not {trust_domain}."
        )


def _reason(cause: BaseException | None, audiences: Iterable[str]) -> str:
    if isinstance(cause, jwt.ExpiredSignatureError):
        return "The JWT-SVID has expired."
    if isinstance(cause, jwt.InvalidAudienceError):
        return f"The JWT-SVID is not for this registry (aud must name one of {sorted(audiences)})."
    if isinstance(cause, jwt.InvalidSignatureError):
        return "The JWT-SVID's signature is not valid."
    return "The JWT-SVID is not valid."


async def agent_identity(
    token: str, material: IdentityMaterial, policy: JwtSvidPolicy, records: RecordsBackend
) -> Identity:
    svid = verified_svid(token, material, policy)
    agent = await records.get_agent(policy.agent_id_of(svid.spiffe_id))
    if agent is None or agent.status == DELETED:
        raise InvalidCredentials(
            f"The JWT-SVID names no agent of this registry ({svid.spiffe_id})."
        )
    developer = await records.get_user(agent.developer_id)
    if developer is None or not developer.is_active:
        raise InvalidCredentials("The agent's developer account is not active.")
    return Identity(
        kind=AGENT,
        subject=agent.id,
        plugin=PLUGIN,
        # What the agent's own key may do, no more: the SVID proves the same identity.
        scopes=AGENT_KEY_SCOPES,
        claims={
            "spiffe_id": str(svid.spiffe_id),
            "developer_id": agent.developer_id,
            "expires_at": svid.expiry,
        },
    )
