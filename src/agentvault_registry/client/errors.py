"""The registry's one JSON error shape, as typed exceptions.

Every error response of the registry is ``{"error", "message", "details", "request_id"}``;
:func:`error_from_response` turns one into the exception class of its status, so callers
catch what they can act on (``NotFoundError``, ``RateLimitedError``) and read the rest
(``code``, ``details``) from the common base.
"""

from __future__ import annotations

from typing import Any


class RegistryClientError(Exception):
    """Anything that kept a request from getting an answer from the registry."""


class RegistryConnectionError(RegistryClientError):
    """The registry could not be reached (refused, DNS, timeout, TLS)."""


class RegistryAPIError(RegistryClientError):
    """The registry answered with an error status.

    :ivar status: the HTTP status.
    :ivar code: the registry's stable error code (``validation_error``, ``not_found``...).
    :ivar message: its human-readable text.
    :ivar details: field errors of a 422, other specifics otherwise.
    :ivar request_id: the id to quote to the registry's operators.
    :ivar retry_after: seconds the registry asked to wait (429, 503), else None.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequestError(RegistryAPIError):
    """400: the request was malformed."""


class AuthenticationError(RegistryAPIError):
    """401: no credentials, or credentials the registry does not accept."""


class PermissionDeniedError(RegistryAPIError):
    """403: authenticated, but not allowed to do this."""


class NotFoundError(RegistryAPIError):
    """404: no such object (or not one the caller may see)."""


class ConflictError(RegistryAPIError):
    """409: the write clashes with what exists (a taken humanReadableId, username...)."""


class PreconditionFailedError(RegistryAPIError):
    """412: ``If-Match`` names a version someone else has replaced since."""


class PayloadTooLargeError(RegistryAPIError):
    """413: the body is over the registry's size limit."""


class ValidationError(RegistryAPIError):
    """422: the body or query was refused; ``details`` maps each field to its reasons."""


class RateLimitedError(RegistryAPIError):
    """429: too many requests; wait ``retry_after`` seconds."""


class ServiceUnavailableError(RegistryAPIError):
    """503: a backend of the registry is down; wait ``retry_after`` seconds."""


ERRORS_BY_STATUS: dict[int, type[RegistryAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def retry_after_seconds(header: str | None) -> float | None:
    """``Retry-After`` in seconds; None when absent or not a number of seconds (the registry
    always sends seconds; an HTTP date from a proxy is not worth guessing at)."""
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None


def error_from_response(
    status: int, body: Any, retry_after_header: str | None = None
) -> RegistryAPIError:
    """The exception for an error response: its JSON body when it has the registry's shape,
    the bare status otherwise (a proxy's HTML page, an empty body)."""
    cls = ERRORS_BY_STATUS.get(status, RegistryAPIError)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        details = body.get("details")
        return cls(
            status,
            body["error"],
            str(body.get("message") or body["error"]),
            details=details if isinstance(details, dict) else None,
            request_id=body.get("request_id"),
            retry_after=retry_after_seconds(retry_after_header),
        )
    return cls(
        status,
        f"http_{status}",
        f"HTTP {status} without the registry's error body",
        retry_after=retry_after_seconds(retry_after_header),
    )
