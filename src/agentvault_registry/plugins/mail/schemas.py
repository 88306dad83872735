"""The ``[plugins.mail]`` options."""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from agentvault_registry.config.secrets import SecretField

BACKENDS = ("console", "smtp")
SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_SENDER = "AgentVault Registry <noreply@localhost>"


class Mailbox(fields.String):
    """An address with an optional display name: ``Name <user@host>`` or ``user@host``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        # A line break would let the value add headers of its own to every message.
        if "\r" in text or "\n" in text:
            raise ValidationError("must be on one line.")
        name, address = parseaddr(text)
        validate.Email(error='must be an email address, optionally "Name <user@host>".')(address)
        return formataddr((name, address))


class SmtpOptions(Schema):
    class Meta:
        unknown = RAISE

    host = fields.String(load_default="localhost", validate=validate.Length(min=1))
    port = fields.Integer(load_default=587, validate=validate.Range(min=1, max=65535))
    security = fields.String(load_default="starttls", validate=validate.OneOf(SECURITY_MODES))
    username = fields.String(load_default=None, validate=validate.Length(min=1))
    password = SecretField(load_default=None)
    timeout = fields.Float(load_default=10.0, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def _credentials_come_in_pairs(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data["username"] is None) != (data["password"] is None):
            given, missing = (
                ("username", "password") if data["password"] is None else ("password", "username")
            )
            raise ValidationError(f"needs {missing} to be set as well.", given)


class MailOptions(Schema):
    class Meta:
        unknown = RAISE

    backend = fields.String(load_default="console", validate=validate.OneOf(BACKENDS))
    sender = Mailbox(load_default=DEFAULT_SENDER)
    smtp = fields.Nested(SmtpOptions, load_default=None)

    @validates_schema
    def _smtp_section_needs_smtp_backend(self, data: dict[str, Any], **kwargs: Any) -> None:
        # Settings that would silently do nothing usually mean the backend line was forgotten.
        if data["smtp"] is not None and data["backend"] != "smtp":
            raise ValidationError('is only used with backend = "smtp".', "smtp")

    @post_load
    def _smtp_defaults(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["backend"] == "smtp" and data["smtp"] is None:
            data["smtp"] = SmtpOptions().load({})
        return data
