"""Conformance suites for storage backends, built-in or third-party.

Subclass a suite in a test module named ``Test...`` and provide the fixtures its docstring
lists; every implementation of a kind must pass its kind's suite.
"""

from .accounts import AccountsConformance
from .activity import ActivityConformance
from .agents import AgentsConformance
from .blobs import BlobsConformance
from .cache import CacheConformance
from .discovery import DiscoveryConformance
from .federation import FederationConformance
from .health import HealthConformance
from .onboarding import OnboardingConformance
from .records import RecordsConformance

__all__ = [
    "AccountsConformance",
    "ActivityConformance",
    "AgentsConformance",
    "BlobsConformance",
    "CacheConformance",
    "DiscoveryConformance",
    "FederationConformance",
    "HealthConformance",
    "OnboardingConformance",
    "RecordsConformance",
]
