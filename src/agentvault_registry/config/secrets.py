"""Secret values in configuration.

A secret may be written inline, or as a reference that keeps it out of the config file:
``{ env = "NAME" }`` reads an environment variable, ``{ file = "/path" }`` reads a file
(trailing newline stripped, as secret managers mount them). Resolved values are wrapped in
:class:`Secret`, which never shows itself in ``repr``, logs or ``config check``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marshmallow import ValidationError, fields

MASK = "********"


class Secret:
    """A string that only :meth:`reveal` shows."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def is_secret_reference(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) in ({"env"}, {"file"})


def resolve_reference(value: Mapping[str, Any], environ: Mapping[str, str]) -> Secret:
    """Read the secret an ``env``/``file`` reference points at."""
    if "env" in value:
        name = value["env"]
        if not isinstance(name, str) or name not in environ:
            raise ValidationError(f"environment variable {name!r} is not set.")
        return Secret(environ[name])
    path = value["file"]
    if not isinstance(path, str):
        raise ValidationError("'file' must be a path.")
    if "\x00" in path:
        # TOML and JSON strings may hold NUL; no file system path can.
        raise ValidationError("'file' must be a path; it holds a NUL character.")
    try:
        return Secret(Path(path).read_text(encoding="utf-8").rstrip("\r\n"))
    except OSError as exc:
        raise ValidationError(f"cannot read secret file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise ValidationError(f"secret file {path} is not UTF-8 text.") from None


class SecretField(fields.Field):
    """A config field holding a secret; loads to :class:`Secret`, dumps masked.

    References were already resolved by the loader (into :class:`Secret`); inline strings are
    wrapped here.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Secret:
        if isinstance(value, str):
            value = Secret(value)
        if not isinstance(value, Secret):
            raise ValidationError('Expected a string, { env = "NAME" } or { file = "/path" }.')
        if not value.reveal():
            raise ValidationError("must not be empty.")
        return value

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else MASK
