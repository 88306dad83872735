"""Request and response bodies of the auth endpoints, and the plugin's config schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from agentvault_registry.a2a.schema_fields import StrictBoolean
from agentvault_registry.config.secrets import SecretField
from agentvault_registry.core.pagination import PaginationSchema
from agentvault_registry.plugins.auth.policy import MAX_LENGTH, password_problems
from agentvault_registry.plugins.auth.scopes import ALL_SCOPES, ROLES
from agentvault_registry.plugins.auth.tokens import ASYMMETRIC_ALGORITHMS, SYMMETRIC_ALGORITHMS

USERNAME = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$",
    error="3 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit.",
)
#: Tokens a client echoes back: URL-safe characters, generously bounded.
TOKEN = [
    validate.Length(min=1, max=4096),
    validate.Regexp(r"^[A-Za-z0-9._~+/=-]+$", error="Not a token."),
]
#: The furthest an API key may be set to expire.
MAX_KEY_LIFETIME = dt.timedelta(days=5 * 365)


def printable(value: str) -> None:
    """No control characters (NUL included): names end up in databases, logs and pages."""
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValidationError("Must not contain control characters.")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class NewPasswordField(fields.String):
    """A password being set: bounded here, checked against the policy by the schema."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=True,
            load_only=True,
            validate=validate.Length(max=MAX_LENGTH),
            **kwargs,
        )


def _password_field() -> fields.String:
    """A password being checked: only bounded (policy applies when setting one)."""
    return fields.String(required=True, load_only=True, validate=validate.Length(1, MAX_LENGTH))


# ------------------------------------------------------------------ requests


class RegisterSchema(Strict):
    email = fields.Email(required=True, validate=[validate.Length(max=254), printable])
    username = fields.String(required=True, validate=USERNAME)
    password = NewPasswordField()

    @validates_schema(skip_on_field_errors=True)
    def _policy(self, data: dict[str, Any], **_: Any) -> None:
        problems = password_problems(
            data["password"], username=data["username"], email=data["email"]
        )
        if problems:
            raise ValidationError(problems, "password")


class VerifyEmailSchema(Strict):
    token = fields.String(required=True, validate=TOKEN)


class LoginSchema(Strict):
    email = fields.String(validate=[validate.Length(1, 254), printable])
    username = fields.String(validate=[validate.Length(1, 254), printable])
    password = _password_field()

    @validates_schema
    def _one_login(self, data: dict[str, Any], **_: Any) -> None:
        if ("email" in data) == ("username" in data):
            raise ValidationError("Give either email or username.", "_schema")


class RefreshSchema(Strict):
    refresh_token = fields.String(required=True, validate=TOKEN)


def _policy_without_names(value: str) -> None:
    problems = password_problems(value)
    if problems:
        raise ValidationError(problems)


class PasswordChangeSchema(Strict):
    """The part of the policy that needs the account's names is checked by the service."""

    current_password = _password_field()
    new_password = NewPasswordField()

    @validates("new_password")
    def _policy(self, value: str, **_: Any) -> None:
        _policy_without_names(value)


class RecoverSchema(Strict):
    email = fields.Email(required=True, validate=[validate.Length(max=254), printable])


class RecoverConfirmSchema(Strict):
    """Checked before the single-use token is spent, so a refused password does not burn it;
    the part of the policy that needs the account's names is checked by the service."""

    token = fields.String(required=True, validate=TOKEN)
    new_password = NewPasswordField()

    @validates("new_password")
    def _policy(self, value: str, **_: Any) -> None:
        _policy_without_names(value)


class LogoutSchema(Strict):
    everywhere = StrictBoolean(
        load_default=False,
        metadata={"description": "End every session of the account, not only this one."},
    )


class ApiKeyCreateSchema(Strict):
    name = fields.String(required=True, validate=[validate.Length(1, 100), printable])
    scopes = fields.List(
        fields.String(validate=validate.OneOf(ALL_SCOPES)),
        required=True,
        validate=validate.Length(min=1),
    )
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates("expires_at")
    def _in_the_future(self, value: dt.datetime | None, **_: Any) -> None:
        now = dt.datetime.now(dt.UTC)
        if value is not None and value <= now:
            raise ValidationError("Must be in the future.")
        if value is not None and value > now + MAX_KEY_LIFETIME:
            raise ValidationError("Must be within five years.")


class UserListQuerySchema(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "`pagination.next_cursor` of the previous page."},
    )
    q = fields.String(
        validate=[validate.Length(1, 254), printable],
        metadata={"description": "Part of the username or email, any case."},
    )
    role = fields.String(validate=validate.OneOf(ROLES))
    # Only the two spellings a client means: marshmallow would also read "yes" or "0".
    is_active = fields.Boolean(truthy={"true"}, falsy={"false"})


class UserUpdateSchema(Strict):
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = StrictBoolean(
        metadata={"description": "false ends every session; the account's API keys stop working."}
    )

    @validates_schema
    def _changes_something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give role, is_active or both.", "_schema")


# ----------------------------------------------------------------- responses


class UserSchema(Schema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    is_verified = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class UserListSchema(Schema):
    users = fields.List(fields.Nested(UserSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Access token seconds."})


class ApiKeySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "First characters of the key."})
    scopes = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    agent_id = fields.String(
        allow_none=True,
        metadata={
            "description": "Set on an agent's own key (from onboarding): it acts for"
            " that agent only."
        },
    )


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(required=True, metadata={"description": "Shown once; store it now."})


class ApiKeyListSchema(Schema):
    api_keys = fields.List(fields.Nested(ApiKeySchema), required=True)


# -------------------------------------------------------------------- config


class JwtKeySchema(Strict):
    kid = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,64}$"))
    secret = SecretField(load_default=None)
    private_key = SecretField(load_default=None)
    public_key = fields.String(load_default=None)


class AuthOptions(Strict):
    bcrypt_cost = fields.Integer(load_default=12, validate=validate.Range(4, 16))
    password_pepper = SecretField(load_default=None)
    #: Threads hashing passwords; 0 = one per core but one, so the event loop keeps a core.
    hash_workers = fields.Integer(load_default=0, validate=validate.Range(0, 64))
    access_token_ttl = fields.Integer(load_default=900, validate=validate.Range(60, 86_400))
    refresh_token_ttl = fields.Integer(
        load_default=14 * 86_400, validate=validate.Range(300, 365 * 86_400)
    )
    verification_token_ttl = fields.Integer(
        load_default=48 * 3600, validate=validate.Range(300, 30 * 86_400)
    )
    reset_token_ttl = fields.Integer(load_default=1800, validate=validate.Range(300, 86_400))
    issuer = fields.String(load_default="agentvault-registry", validate=validate.Length(1, 200))
    audience = fields.String(load_default="agentvault-registry", validate=validate.Length(1, 200))
    jwt_algorithm = fields.String(
        load_default="HS256",
        validate=validate.OneOf(SYMMETRIC_ALGORITHMS + ASYMMETRIC_ALGORITHMS),
    )
    #: The first key signs; the others only verify (keys being retired). Without keys, HS256
    #: uses the registry's JWT secret.
    jwt_keys = fields.List(fields.Nested(JwtKeySchema), load_default=list)

    @validates_schema(skip_on_field_errors=True)
    def _keys_fit_the_algorithm(self, data: dict[str, Any], **_: Any) -> None:
        symmetric = data["jwt_algorithm"] in SYMMETRIC_ALGORITHMS
        if not data["jwt_keys"] and not symmetric:
            raise ValidationError(f"{data['jwt_algorithm']} needs jwt_keys.", "jwt_keys")
        for key in data["jwt_keys"]:
            if symmetric and key["secret"] is None:
                raise ValidationError(f"key {key['kid']!r} needs a secret for HS256.", "jwt_keys")
            if not symmetric and key["public_key"] is None:
                raise ValidationError(f"key {key['kid']!r} needs a public_key.", "jwt_keys")
        if data["jwt_keys"] and (
            data["jwt_keys"][0]["secret" if symmetric else "private_key"] is None
        ):
            raise ValidationError(
                "the first key signs, so it needs its secret/private_key.", "jwt_keys"
            )
