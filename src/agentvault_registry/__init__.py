"""AgentVault Registry.

This module is the plugin API: what a third-party plugin imports.
"""

from agentvault_registry.core.errors import (
    AuthenticationRequired,
    BackendError,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidCredentials,
    NotFound,
    PreconditionFailed,
    RateLimited,
    RegistryError,
    ValidationFailed,
)
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.identity import Identity, current_identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.ratelimit import RateLimit, rate_limit
from agentvault_registry.core.requests import read_json
from agentvault_registry.storage_backends import (
    BackendContext,
    BackendSpec,
    Blob,
    BlobBackend,
    BlobInfo,
    CacheBackend,
    RecordsBackend,
)

__version__ = "0.1.0"

__all__ = [
    "AuthenticationRequired",
    "BackendContext",
    "BackendError",
    "BackendSpec",
    "BadRequest",
    "Blob",
    "BlobBackend",
    "BlobInfo",
    "CacheBackend",
    "Conflict",
    "Forbidden",
    "Identity",
    "InvalidCredentials",
    "NotFound",
    "PreconditionFailed",
    "RateLimit",
    "RateLimited",
    "RecordsBackend",
    "RegistryError",
    "ValidationFailed",
    "api_doc",
    "current_identity",
    "hookimpl",
    "rate_limit",
    "read_json",
    "requires",
]
