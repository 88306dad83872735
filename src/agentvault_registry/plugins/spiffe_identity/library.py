"""The py-spiffe package, imported only when a SPIFFE source is configured.

It is an optional dependency (the ``spiffe`` extra): a registry without workload identity
never needs it, nor the gRPC stack it brings.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

from cryptography.utils import CryptographyDeprecationWarning

from agentvault_registry.core.errors import ConfigError


def spiffe() -> ModuleType:
    """The ``spiffe`` package; a ConfigError naming the extra when it is not installed."""
    try:
        with warnings.catch_warnings():
            # py-spiffe names DSA keys in a type annotation, which cryptography deprecates;
            # nothing here uses DSA, and the warning would repeat in every process's log.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return importlib.import_module("spiffe")
    except ImportError:
        raise ConfigError(
            "plugins.spiffe_identity: a SPIFFE source needs the spiffe package; "
            "install agentvault-registry[spiffe]"
        ) from None


def spiffe_module(name: str) -> ModuleType:
    """A submodule of py-spiffe (``bundle.jwt_bundle.errors``): not every error class is
    re-exported by ``spiffe.errors``."""
    spiffe()
    return importlib.import_module(f"spiffe.{name}")
