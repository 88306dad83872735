"""A2A 1.0 ``SecurityScheme`` (a oneof of five variants) and ``SecurityRequirement``.

Field names are proto3 JSON's lowerCamelCase. Unknown fields inside a variant are kept (and
reported by the normalizer); beside the variant they are not, because a oneof wrapper with a
second key no longer says which scheme it is.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentvault_registry.a2a.schema_fields import (
    OBJECT_EXPECTED,
    KeepUnknown,
    NamedMap,
    StrictBoolean,
    required_text,
)

API_KEY_LOCATIONS = ("query", "header", "cookie")


def exactly_one_of(data: dict[str, Any], names: tuple[str, ...], what: str) -> None:
    present = [name for name in names if name in data]
    if len(present) != 1:
        found = ", ".join(present) or "none"
        raise ValidationError(f"Must hold exactly one {what} ({', '.join(names)}); found {found}.")


class APIKeySecuritySchemeSchema(KeepUnknown):
    description = fields.String()
    location = required_text(validate_also=validate.OneOf(API_KEY_LOCATIONS))
    name = required_text()


class HTTPAuthSecuritySchemeSchema(KeepUnknown):
    description = fields.String()
    scheme = required_text()
    bearerFormat = fields.String()


class AuthorizationCodeOAuthFlowSchema(KeepUnknown):
    authorizationUrl = required_text()
    tokenUrl = required_text()
    refreshUrl = fields.String()
    scopes = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    pkceRequired = StrictBoolean()


class ClientCredentialsOAuthFlowSchema(KeepUnknown):
    tokenUrl = required_text()
    refreshUrl = fields.String()
    scopes = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class ImplicitOAuthFlowSchema(KeepUnknown):
    authorizationUrl = fields.String()
    refreshUrl = fields.String()
    scopes = fields.Dict(keys=fields.String(), values=fields.String())


class PasswordOAuthFlowSchema(KeepUnknown):
    tokenUrl = fields.String()
    refreshUrl = fields.String()
    scopes = fields.Dict(keys=fields.String(), values=fields.String())


class DeviceCodeOAuthFlowSchema(KeepUnknown):
    deviceAuthorizationUrl = required_text()
    tokenUrl = required_text()
    refreshUrl = fields.String()
    scopes = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class OAuthFlowsSchema(KeepUnknown):
    authorizationCode = fields.Nested(AuthorizationCodeOAuthFlowSchema)
    clientCredentials = fields.Nested(ClientCredentialsOAuthFlowSchema)
    implicit = fields.Nested(ImplicitOAuthFlowSchema)
    password = fields.Nested(PasswordOAuthFlowSchema)
    deviceCode = fields.Nested(DeviceCodeOAuthFlowSchema)

    @validates_schema
    def _one_flow(self, data: dict[str, Any], **_: Any) -> None:
        exactly_one_of(data, tuple(self.declared_fields), "flow")


class OAuth2SecuritySchemeSchema(KeepUnknown):
    description = fields.String()
    flows = fields.Nested(OAuthFlowsSchema, required=True)
    oauth2MetadataUrl = fields.String()


class OpenIdConnectSecuritySchemeSchema(KeepUnknown):
    description = fields.String()
    openIdConnectUrl = required_text()


class MutualTlsSecuritySchemeSchema(KeepUnknown):
    description = fields.String()


class SecuritySchemeSchema(Schema):
    error_messages = OBJECT_EXPECTED

    apiKeySecurityScheme = fields.Nested(APIKeySecuritySchemeSchema)
    httpAuthSecurityScheme = fields.Nested(HTTPAuthSecuritySchemeSchema)
    oauth2SecurityScheme = fields.Nested(OAuth2SecuritySchemeSchema)
    openIdConnectSecurityScheme = fields.Nested(OpenIdConnectSecuritySchemeSchema)
    mtlsSecurityScheme = fields.Nested(MutualTlsSecuritySchemeSchema)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_variant(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        # Also with field errors, so a scheme of unknown fields says what it lacks.
        if isinstance(original, dict):
            exactly_one_of(original, tuple(self.declared_fields), "security scheme")


class StringListSchema(KeepUnknown):
    list = fields.List(fields.String())


class SecurityRequirementSchema(KeepUnknown):
    schemes = NamedMap(fields.Nested(StringListSchema))
