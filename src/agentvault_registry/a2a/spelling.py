"""Other spellings of what A2A 1.0 defines: field names, nulls, bindings, capability lists.

Each rewrite applies only where the meaning is not in doubt: a snake_case name whose
camelCase form A2A defines at that place, a null (proto3 JSON reads it as absent), a binding
that is a core one in another case or spelling, a capabilities array made only of capability
names. Anything else is left for the schema to refuse.
"""

from __future__ import annotations

import re
from typing import Any

from agentvault_registry.a2a.bindings import CORE_BINDINGS, canonical_binding, major_minor
from agentvault_registry.a2a.report import NormalizationLog, join, summarize_paths
from agentvault_registry.a2a.schemas import (
    AgentCapabilitiesSchema,
    AgentCardSchema,
    AgentInterfaceSchema,
    AgentSkillSchema,
    known_objects,
)
from agentvault_registry.a2a.upgrades import DROPPED_CAPABILITIES, LEGACY_CARD_FIELDS

CAPABILITY_FLAGS = ("streaming", "pushNotifications", "extendedAgentCard")
#: Names older versions used at each place, respelled too so the upgrades can find them.
LEGACY_NAMES = {
    AgentCardSchema: LEGACY_CARD_FIELDS,
    AgentCapabilitiesSchema: DROPPED_CAPABILITIES,
    AgentInterfaceSchema: ("transport",),
    AgentSkillSchema: ("security",),
}
_SNAKE_SEPARATOR = re.compile(r"_([a-z0-9])")


def camel_case(name: str) -> str:
    return _SNAKE_SEPARATOR.sub(lambda match: match[1].upper(), name)


def respell_field_names(card: dict[str, Any], log: NormalizationLog) -> None:
    renamed: list[str] = []
    nulls: list[str] = []
    for schema, obj, path in known_objects(AgentCardSchema(), card):
        known = {*schema.fields, *LEGACY_NAMES.get(type(schema), ())}
        for name in [name for name in obj if name not in known and camel_case(name) in known]:
            renamed.append(log.original_path(join(path, name)))
            _rename(obj, path, name, camel_case(name), log)
        for name in [name for name in obj if obj[name] is None and name in known]:
            del obj[name]
            nulls.append(join(path, name))
    if renamed:
        log.changed(f"Renamed snake_case fields to A2A's camelCase: {summarize_paths(renamed)}.")
    if nulls:
        log.changed(
            f"Dropped null fields (proto3 JSON reads null as absent): {summarize_paths(nulls)}."
        )


def capabilities_from_names(card: dict[str, Any], log: NormalizationLog) -> None:
    names = card.get("capabilities")
    if not isinstance(names, list):
        return
    spelled = [camel_case(name) if isinstance(name, str) else name for name in names]
    unknown = [
        _shortened(str(name))
        for name, flag in zip(names, spelled, strict=True)
        if flag not in CAPABILITY_FLAGS + DROPPED_CAPABILITIES
    ]
    if unknown:
        log.refuse(
            "capabilities",
            "Must be an object. An array is read only when it lists capability names "
            f"({', '.join(CAPABILITY_FLAGS)}); this one also lists {', '.join(unknown[:3])}.",
        )
        # Reported once, here; an empty object keeps the schema from repeating it.
        card["capabilities"] = {}
        return
    card["capabilities"] = dict.fromkeys(spelled, True)
    log.changed("capabilities: the array of capability names became an object of flags.")


def respell_interfaces(card: dict[str, Any], log: NormalizationLog) -> None:
    interfaces = card.get("supportedInterfaces")
    for index, interface in enumerate(interfaces if isinstance(interfaces, list) else []):
        if not isinstance(interface, dict):
            continue
        path = f"supportedInterfaces.{index}"
        if "transport" in interface:
            _transport_as_binding(interface, path, log)
        binding = interface.get("protocolBinding")
        if isinstance(binding, str):
            canonical = canonical_binding(binding)
            if canonical != binding:
                interface["protocolBinding"] = canonical
                log.changed(f"{path}.protocolBinding: {binding!r} is spelled {canonical!r}.")
            elif binding and binding not in CORE_BINDINGS:
                log.changed(
                    f"{path}.protocolBinding: {binding!r} is no core binding "
                    f"({', '.join(CORE_BINDINGS)}); kept as a custom one."
                )
        version = interface.get("protocolVersion")
        if isinstance(version, str) and major_minor(version) != version:
            interface["protocolVersion"] = major_minor(version)
            log.changed(f"{path}.protocolVersion: {version!r} is named {major_minor(version)!r}.")


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rename(obj: dict[str, Any], path: str, old: str, new: str, log: NormalizationLog) -> None:
    value = obj.pop(old)
    if new not in obj:
        obj[new] = value
        log.moved(join(path, new), join(path, old))
    elif obj[new] != value:
        log.refuse(join(path, old), f"Contradicts {new}, which the card also has.")


def _transport_as_binding(interface: dict[str, Any], path: str, log: NormalizationLog) -> None:
    transport = interface.pop("transport")
    if "protocolBinding" not in interface:
        interface["protocolBinding"] = transport
        log.moved(f"{path}.protocolBinding", f"{path}.transport")
        log.changed(f"{path}.transport: renamed protocolBinding (its 1.0 name).")
    elif canonical_binding(transport) == canonical_binding(interface["protocolBinding"]):
        log.changed(f"{path}.transport: dropped; protocolBinding says the same.")
    else:
        log.refuse(f"{path}.transport", "Names another binding than protocolBinding.")
