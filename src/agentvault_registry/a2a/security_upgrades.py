"""Security declarations in the shapes v0.3 and OpenAPI used, rewritten as A2A 1.0's.

- ``security`` (v0.3) is 1.0's ``securityRequirements``, card-wide and per skill.
- A requirement ``{"bearer": []}`` (OpenAPI) or ``{"schemes": {"bearer": []}}`` (a 1.0
  draft) is 1.0's ``{"schemes": {"bearer": {"list": []}}}``.
- A scheme ``{"type": "http", ...}`` (OpenAPI) is ``{"httpAuthSecurityScheme": {...}}``,
  with apiKey's ``in`` renamed ``location``. An unknown type, or an OAuth scheme with several
  flows (1.0 allows one per scheme), has no single 1.0 meaning and is refused.
"""

from __future__ import annotations

from typing import Any

from agentvault_registry.a2a.report import NormalizationLog, join

V10_REQUIREMENT_SHAPE = "{schemes: {name: {list: scopes}}}"
OPENAPI_TYPES = {
    "apiKey": "apiKeySecurityScheme",
    "http": "httpAuthSecurityScheme",
    "oauth2": "oauth2SecurityScheme",
    "openIdConnect": "openIdConnectSecurityScheme",
    "mutualTLS": "mtlsSecurityScheme",
}


def upgrade_security(card: dict[str, Any], log: NormalizationLog) -> None:
    _upgrade_requirements(card, "", log)
    skills = card.get("skills")
    for index, skill in enumerate(skills if isinstance(skills, list) else []):
        if isinstance(skill, dict):
            _upgrade_requirements(skill, f"skills.{index}", log)
    schemes = card.get("securitySchemes")
    if isinstance(schemes, dict):
        converted = []
        for name in list(schemes):
            scheme = schemes[name]
            if _is_openapi_scheme(scheme) and _upgrade_scheme(schemes, name, log):
                converted.append(f"{name} ({scheme['type']})")
        if converted:
            log.changed(
                "securitySchemes: converted from OpenAPI's {type: ...} shape to A2A 1.0's: "
                + ", ".join(converted)
                + "."
            )


def _upgrade_requirements(owner: dict[str, Any], path: str, log: NormalizationLog) -> None:
    field = join(path, "securityRequirements")
    if "security" in owner:
        legacy = owner.pop("security")
        if "securityRequirements" in owner:
            log.changed(f"{join(path, 'security')}: dropped; securityRequirements replaces it.")
        else:
            owner["securityRequirements"] = legacy
            log.moved(field, join(path, "security"))
            log.changed(f"{join(path, 'security')}: renamed securityRequirements (its 1.0 name).")
    requirements = owner.get("securityRequirements")
    if not isinstance(requirements, list):
        return
    reshaped = False
    for index, requirement in enumerate(requirements):
        upgraded = _v10_requirement(requirement)
        if upgraded is not None and upgraded != requirement:
            requirements[index] = upgraded
            reshaped = True
    if reshaped:
        log.changed(f"{field}: rewritten in A2A 1.0's shape {V10_REQUIREMENT_SHAPE}.")


def _v10_requirement(requirement: Any) -> dict[str, Any] | None:
    if not isinstance(requirement, dict):
        return None
    if set(requirement) == {"schemes"} and isinstance(requirement["schemes"], dict):
        schemes = requirement["schemes"]
    elif all(isinstance(scopes, list) for scopes in requirement.values()):
        schemes = requirement
    else:
        return None
    return {
        "schemes": {
            name: {"list": scopes} if isinstance(scopes, list) else scopes
            for name, scopes in schemes.items()
        }
    }


def _is_openapi_scheme(scheme: Any) -> bool:
    return isinstance(scheme, dict) and "type" in scheme


def _upgrade_scheme(schemes: dict[str, Any], name: str, log: NormalizationLog) -> bool:
    """Rewrite one OpenAPI-shaped scheme; on refusal, drop it so it is reported only once."""
    path = f"securitySchemes.{name}"
    body = dict(schemes[name])
    kind = body.pop("type")
    variant = OPENAPI_TYPES.get(kind) if isinstance(kind, str) else None
    problem = None
    if variant is None:
        problem = (
            f"{path}.type",
            f"Unknown security scheme type {kind!r}; A2A defines {', '.join(OPENAPI_TYPES)}.",
        )
    elif any(key in body for key in OPENAPI_TYPES.values()):
        problem = (path, "Holds an OpenAPI type and an A2A 1.0 scheme; which applies is unclear.")
    elif kind == "oauth2" and isinstance(body.get("flows"), dict) and len(body["flows"]) > 1:
        flows = ", ".join(body["flows"])
        problem = (f"{path}.flows", f"A2A 1.0 allows one OAuth flow per scheme; found {flows}.")
    if problem is not None:
        log.refuse(*problem)
        del schemes[name]
        return False
    if kind == "apiKey" and "in" in body:
        body["location"] = body.pop("in")
        log.moved(f"{path}.{variant}.location", f"{path}.in")
    schemes[name] = {variant: body}
    log.moved(f"{path}.{variant}", path)
    return True
