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
    "InvalidCredentials",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "RecordsBackend",
    "RegistryError",
    "ValidationFailed",
    "hookimpl",
]
