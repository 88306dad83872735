"""Upgrading the v0.2/v0.3 layout to A2A 1.0, and clearing v0.3 leftovers from 1.0 cards.

v0.3 named one endpoint (``url`` + ``preferredTransport``) plus ``additionalInterfaces`` and
one ``protocolVersion`` for all of them; 1.0 lists ``supportedInterfaces``, each with its own
binding and version. Missing values take the v0.3 schema's defaults (``JSONRPC``,
``0.3.0``), which is what such a card meant. A card that already has ``supportedInterfaces``
keeps them, and its v0.3 fields are dropped (the original document still has them).
"""

from __future__ import annotations

from typing import Any

from agentvault_registry.a2a.bindings import canonical_binding
from agentvault_registry.a2a.report import NormalizationLog, join

LEGACY_INTERFACE_FIELDS = ("url", "preferredTransport", "protocolVersion", "additionalInterfaces")
#: v0.3's name, and the name a pre-release 1.0 draft used, for capabilities.extendedAgentCard.
EXTENDED_CARD_FLAGS = ("supportsAuthenticatedExtendedCard", "supportsExtendedAgentCard")
LEGACY_CARD_FIELDS = (*LEGACY_INTERFACE_FIELDS, *EXTENDED_CARD_FLAGS, "security")
DROPPED_CAPABILITIES = ("stateTransitionHistory",)
V03_DEFAULT_TRANSPORT = "JSONRPC"
V03_DEFAULT_PROTOCOL_VERSION = "0.3.0"


def layout_version(card: dict[str, Any]) -> str:
    """``"1.0"`` for a card with supportedInterfaces; else ``"0.2"`` when its protocolVersion
    says so, and ``"0.3"`` otherwise (the two share one layout)."""
    if "supportedInterfaces" in card:
        return "1.0"
    declared = card.get("protocolVersion")
    return "0.2" if isinstance(declared, str) and declared.startswith("0.2") else "0.3"


def upgrade_interfaces(card: dict[str, Any], log: NormalizationLog) -> None:
    legacy = {name: card.pop(name) for name in LEGACY_INTERFACE_FIELDS if name in card}
    if "supportedInterfaces" in card:
        _fill_missing_versions(card["supportedInterfaces"], legacy.get("protocolVersion"), log)
        if legacy:
            log.changed(f"Dropped v0.3 fields supportedInterfaces replaces: {', '.join(legacy)}.")
    elif "url" in legacy:
        card["supportedInterfaces"] = _interfaces_from_v03(legacy, log)
    elif legacy:
        log.changed(f"Dropped v0.3 fields that name no endpoint without url: {', '.join(legacy)}.")


def upgrade_capability_flags(card: dict[str, Any], log: NormalizationLog) -> None:
    capabilities = card.get("capabilities")
    if not isinstance(capabilities, dict):
        return
    for name in DROPPED_CAPABILITIES:
        if name in capabilities:
            del capabilities[name]
            log.changed(f"capabilities.{name}: dropped; A2A 1.0 no longer defines it.")
    for flag in EXTENDED_CARD_FLAGS:
        if flag not in card:
            continue
        value = card.pop(flag)
        if "extendedAgentCard" not in capabilities:
            capabilities["extendedAgentCard"] = value
            log.moved("capabilities.extendedAgentCard", flag)
            log.changed(f"{flag}: moved to capabilities.extendedAgentCard.")
        elif capabilities["extendedAgentCard"] == value:
            log.changed(f"{flag}: dropped; capabilities.extendedAgentCard says the same.")
        else:
            log.refuse(flag, "Contradicts capabilities.extendedAgentCard.")


def _fill_missing_versions(interfaces: Any, version: Any, log: NormalizationLog) -> None:
    if not isinstance(interfaces, list) or not isinstance(version, str):
        return
    for index, interface in enumerate(interfaces):
        if isinstance(interface, dict) and "protocolVersion" not in interface:
            path = f"supportedInterfaces.{index}.protocolVersion"
            interface["protocolVersion"] = version
            log.moved(path, "protocolVersion")
            log.changed(f"{path}: taken from the card's top-level protocolVersion {version!r}.")


def _interfaces_from_v03(legacy: dict[str, Any], log: NormalizationLog) -> list[dict[str, Any]]:
    version = legacy.get("protocolVersion", V03_DEFAULT_PROTOCOL_VERSION)
    main = {
        "url": legacy["url"],
        "protocolBinding": legacy.get("preferredTransport", V03_DEFAULT_TRANSPORT),
        "protocolVersion": version,
    }
    log.moved("supportedInterfaces.0.url", "url")
    log.moved("supportedInterfaces.0.protocolBinding", "preferredTransport")
    log.moved("supportedInterfaces.0.protocolVersion", "protocolVersion")
    interfaces = [main]
    additional = legacy.get("additionalInterfaces", [])
    if not isinstance(additional, list):
        log.refuse("additionalInterfaces", "Not a valid list.")
        additional = []
    for index, item in enumerate(additional):
        origin = f"additionalInterfaces.{index}"
        if not isinstance(item, dict):
            log.refuse(origin, "Invalid input type.")
            continue
        interface = {key: value for key, value in item.items() if key != "transport"}
        if "transport" in item:
            interface["protocolBinding"] = item["transport"]
        interface["protocolVersion"] = version
        if any(_same_endpoint(interface, known) for known in interfaces):
            log.changed(f"{origin}: dropped; it repeats an interface already listed.")
            continue
        path = f"supportedInterfaces.{len(interfaces)}"
        log.moved(path, origin)
        log.moved(join(path, "protocolBinding"), join(origin, "transport"))
        log.moved(join(path, "protocolVersion"), "protocolVersion")
        interfaces.append(interface)
    defaults = [
        f"{name} {default!r}"
        for name, default in (
            ("preferredTransport", V03_DEFAULT_TRANSPORT),
            ("protocolVersion", V03_DEFAULT_PROTOCOL_VERSION),
        )
        if name not in legacy
    ]
    note = f" (absent, so v0.3's defaults apply: {', '.join(defaults)})" if defaults else ""
    log.changed(f"supportedInterfaces: built from the v0.3 fields {', '.join(legacy)}{note}.")
    return interfaces


def _same_endpoint(interface: dict[str, Any], other: dict[str, Any]) -> bool:
    return interface.get("url") == other.get("url") and canonical_binding(
        interface.get("protocolBinding")
    ) == canonical_binding(other.get("protocolBinding"))
