"""The registry's error hierarchy.

Domain code (services, storage backends, plugins) raises these; only the error middleware turns
them into HTTP responses, always in the one JSON error shape::

    {"error": "<code>", "message": "...", "details": {...}, "request_id": "..."}

Each class carries a stable ``code`` (clients may switch on it) and an HTTP ``status``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RegistryError(Exception):
    """Base class of every error the registry reports to a client."""

    status: int = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal server error."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        if status is not None:
            self.status = status
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)

    def to_dict(self, request_id: str | None = None) -> dict[str, Any]:
        return {
            "error": self.code,
            "message": self.message,
            "details": self.details,
            "request_id": request_id,
        }


class BadRequest(RegistryError):
    status = 400
    code = "bad_request"
    default_message = "The request could not be understood."


class MalformedJSON(BadRequest):
    code = "malformed_json"
    default_message = "The request body is not valid JSON."


class InvalidCredentials(RegistryError):
    """Credentials were presented, belong to a known scheme, and are not valid."""

    status = 401
    code = "invalid_credentials"
    default_message = "The credentials are not valid."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class AuthenticationRequired(InvalidCredentials):
    code = "authentication_required"
    default_message = "This endpoint needs authentication."


class Forbidden(RegistryError):
    status = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."


class NotFound(RegistryError):
    status = 404
    code = "not_found"
    default_message = "No such resource."


class MethodNotAllowed(RegistryError):
    status = 405
    code = "method_not_allowed"
    default_message = "This method is not allowed on this resource."


class Conflict(RegistryError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state of the resource."


class PreconditionFailed(RegistryError):
    status = 412
    code = "precondition_failed"
    default_message = "A precondition of the request does not hold."


class PayloadTooLarge(RegistryError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(RegistryError):
    status = 415
    code = "unsupported_media_type"
    default_message = "The request body must be JSON (Content-Type: application/json)."


class ValidationFailed(RegistryError):
    """The body parsed but does not satisfy the schema; ``details`` maps field paths to errors."""

    status = 422
    code = "validation_failed"
    default_message = "The request did not pass validation."


class RateLimited(RegistryError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        headers = {"Retry-After": str(max(1, int(retry_after)))}
        headers.update(kwargs.pop("headers", None) or {})
        super().__init__(message, headers=headers, **kwargs)
        self.retry_after = retry_after


class HTTPStatusError(RegistryError):
    """An aiohttp ``web.HTTPException`` (raised by aiohttp or a plugin) with no class here."""

    code = "http_error"
    default_message = "The request failed."


class NotConfigured(RegistryError):
    """A feature this registry offers only once an operator configures it (a TEG endpoint, a
    SPIFFE source): the route exists, but there is nothing behind it yet."""

    status = 501
    code = "not_configured"
    default_message = "This feature is not configured on this registry."


class BadGateway(RegistryError):
    """A service the registry relies on answered, but with a refusal or an answer that makes
    no sense; ``details`` say what it answered. Retrying the same request will not help."""

    status = 502
    code = "bad_gateway"
    default_message = "An upstream service refused the request."


class ServiceUnavailable(RegistryError):
    status = 503
    code = "service_unavailable"
    default_message = "The service is temporarily unavailable."

    def __init__(self, message: str | None = None, *, retry_after: int = 5, **kwargs: Any) -> None:
        headers = {"Retry-After": str(max(1, int(retry_after)))}
        headers.update(kwargs.pop("headers", None) or {})
        super().__init__(message, headers=headers, **kwargs)
        self.retry_after = retry_after


class BackendError(ServiceUnavailable):
    """A storage backend failed (connection refused, timeout, driver error).

    Backends wrap every driver exception in this, so callers never see asyncpg, sqlite or
    redis exceptions; the original is kept as ``__cause__`` for the logs.
    """

    code = "backend_unavailable"
    default_message = "A storage backend is unavailable."

    def __init__(
        self, message: str | None = None, *, backend: str | None = None, **kwargs: Any
    ) -> None:
        details = kwargs.pop("details", None) or {}
        if backend:
            details.setdefault("backend", backend)
        super().__init__(message, details=details, **kwargs)
        self.backend = backend


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds one human line per problem.

    Not a RegistryError: it stops startup and is never sent to a client.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class PluginError(ConfigError):
    """A plugin could not be loaded, is misdeclared, or misses a plugin it requires."""


class FetchFailed(RegistryError):
    """A URL the client supplied could not be fetched: unreachable, too slow, too large, or not
    the JSON expected. 422: the request was understood, but what it points at is unusable.
    """

    status = 422
    code = "fetch_failed"
    default_message = "The URL could not be fetched."

    def __init__(self, message: str | None = None, *, url: str, reason: str, **kwargs: Any) -> None:
        details = {"url": url, "reason": reason, **(kwargs.pop("details", None) or {})}
        super().__init__(
            message or f"{self.default_message[:-1]}: {reason}.", details=details, **kwargs
        )
        self.url = url
        self.reason = reason


class FetchTimedOut(FetchFailed):
    """The URL did not connect, or did not answer completely, within the time allowed."""


class FetchTooLarge(FetchFailed):
    """The server answered, with more than the caller accepts: an answer, but not a usable
    one (unlike a server that could not be reached)."""


class FetchRefused(FetchFailed):
    """The registry will not fetch this URL at all (scheme, credentials, or a non-public
    address: the server-side request forgery guard).
    """

    code = "fetch_refused"
    default_message = "The registry does not fetch this URL."
