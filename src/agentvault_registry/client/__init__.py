"""The registry's REST API from Python (:class:`RegistryClient`) and the CLI commands built on
it (:mod:`agentvault_registry.client.cli`)."""

from agentvault_registry.client.api import RegistryClient
from agentvault_registry.client.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    RegistryAPIError,
    RegistryClientError,
    RegistryConnectionError,
    ServiceUnavailableError,
    ValidationError,
)

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitedError",
    "RegistryAPIError",
    "RegistryClient",
    "RegistryClientError",
    "RegistryConnectionError",
    "ServiceUnavailableError",
    "ValidationError",
]
