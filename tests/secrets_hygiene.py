"""Secrets hygiene over the whole suite (F11 item 6): a created secret appears in its creation
response and nowhere else, ever: in no later response body, stream event or log record.

A pytest plugin (``pytest_plugins`` in tests/conftest.py). From ``pytest_configure`` on it

- records every secret the registry creates, where the product mints it: API keys
  (``avk_``), federation inbound tokens (``avf_``), bootstrap tokens (``BST_``), access and
  refresh JWTs, and the verification and reset tokens, which have no shape of their own and
  whose creation channel is the mail, never a response. Each is noted with the request it was
  created in (a context variable set by the observer middleware), or none;
- wraps every app ``create_app`` builds in an outermost observer middleware, which scans each
  response (headers and body), each chunk a streaming response writes (SSE) and each
  WebSocket frame; plain file responses are not read (they serve static assets);
- attaches a handler to the root logger that renders each record as the product's handler
  would (masked by its RedactionFilter, formatted as JSON) and scans the text. The root
  logger is set to INFO, the product's default level, so access records are seen.

Secrets are found by their shapes (runs of the URL-safe alphabet, JWTs) and looked up among
the created ones, so a scan costs one pass over the text. The first appearance of a secret must
be the response to the request that created it (a secret created outside any request, or for
a mail, has none); any other appearance is a leak. A secret-shaped string nobody created here
(a test's made-up key, a secret of a registry in another process) is counted, not judged.
Requests are not checked: clients send secrets by design.

Not covered: registries that tests run in child processes (their own memory), and response
bodies sent as files. Under pytest-xdist each worker observes its own apps and hands its
findings to the controller, which fails the run on any leak.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import pytest
from aiohttp import web

from agentvault_registry.core import app as app_module
from agentvault_registry.core import logs as logs_module
from agentvault_registry.core.logs import JsonFormatter
from agentvault_registry.core.redaction import RedactionFilter
from agentvault_registry.plugins.auth import api_keys, tokens
from agentvault_registry.plugins.auth import service as auth_service
from agentvault_registry.plugins.federation import service as federation_service
from agentvault_registry.plugins.onboarding import service as onboarding_service
from support import fail_session

#: Runs of the URL-safe base64 alphabet long enough to be a secret (prefixes included: ``_``
#: belongs to the alphabet). A JWT is three such runs joined by dots.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]{20,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SHAPED = re.compile(r"(?:avk_|avf_|BST_)[A-Za-z0-9_-]{20,}")
#: The mail plugin's logger: a mailed token passing through it is its creation channel.
MAIL_LOGGER = "agentvault_registry.plugins.mail.mailer"
MAIL = "mail"
RESPONSE = "response"

_request: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "secrets_hygiene_request", default=None
)
_request_numbers = itertools.count(1)


@dataclass(frozen=True)
class Request:
    number: int
    method: str
    route: str


@dataclass(frozen=True)
class Created:
    kind: str
    #: ``response`` (shown once, to its creator) or ``mail`` (never in a response).
    channel: str
    #: The request it was created in, or None (created by a test, a command or a task).
    request: int | None


@dataclass(frozen=True)
class Leak:
    kind: str
    shown: str
    where: str
    test: str
    reason: str

    def line(self) -> str:
        return f"{self.kind} {self.shown}… in {self.where} ({self.test}): {self.reason}"


@dataclass
class Observer:
    created: dict[str, Created] = field(default_factory=dict)
    #: Secret -> the request whose response showed it first (0 for a mail's log record).
    shown_by: dict[str, int] = field(default_factory=dict)
    leaks: list[Leak] = field(default_factory=list)
    responses: int = 0
    #: Responses whose body is a file (static assets): their headers only are read.
    file_responses: int = 0
    stream_chunks: int = 0
    log_records: int = 0
    unknown_shaped: set[str] = field(default_factory=set)
    #: Time spent observing (scanning, and rendering log records): the plugin's overhead.
    seconds: float = 0.0
    test: str = "-"

    def create(self, secret: str, kind: str, channel: str = RESPONSE) -> None:
        current = _request.get()
        self.created[secret] = Created(kind, channel, current.number if current else None)

    def check_response(self, text: str, request: Request, *, chunk: bool = False) -> None:
        started = time.perf_counter()
        try:
            self._check_response(text, request, chunk)
        finally:
            self.seconds += time.perf_counter() - started

    def _check_response(self, text: str, request: Request, chunk: bool) -> None:
        if chunk:
            self.stream_chunks += 1
        else:
            self.responses += 1
        where = f"the response to {request.method} {request.route}"
        for secret, created in self._created_in(text):
            if created.channel == MAIL:
                self._leak(secret, created, where, "a mailed token, shown in a response")
            elif secret in self.shown_by:
                if self.shown_by[secret] != request.number:
                    self._leak(secret, created, where, "shown again after its creation response")
            elif created.request != request.number:
                reason = (
                    "first shown by a request that did not create it"
                    if created.request is not None
                    else "created outside any request, then shown in a response"
                )
                self._leak(secret, created, where, reason)
            else:
                self.shown_by[secret] = request.number

    def check_log(self, text: str, logger: str) -> None:
        started = time.perf_counter()
        try:
            self._check_log(text, logger)
        finally:
            self.seconds += time.perf_counter() - started

    def _check_log(self, text: str, logger: str) -> None:
        self.log_records += 1
        for secret, created in self._created_in(text):
            if created.channel == MAIL and logger == MAIL_LOGGER and secret not in self.shown_by:
                self.shown_by[secret] = 0  # the mail itself, logged by the console mailer
                continue
            self._leak(secret, created, f"a log record of {logger}", "a secret in a log record")

    def _created_in(self, text: str) -> Iterator[tuple[str, Created]]:
        found = set(_TOKEN_RUN.findall(text)) | set(_JWT.findall(text))
        for candidate in found:
            created = self.created.get(candidate)
            if created is not None:
                yield candidate, created
            elif _SHAPED.fullmatch(candidate):
                self.unknown_shaped.add(candidate)

    def _leak(self, secret: str, created: Created, where: str, reason: str) -> None:
        # Redacted to what the registry itself shows of a key: its prefix.
        shown = secret[: api_keys.SHOWN_PREFIX_LENGTH]
        self.leaks.append(Leak(created.kind, shown, where, self.test, reason))

    def summary(self) -> dict:
        kinds: dict[str, int] = {}
        for created in self.created.values():
            kinds[created.kind] = kinds.get(created.kind, 0) + 1
        return {
            "secrets": len(self.created),
            "kinds": kinds,
            "shown_in_creation_response": sum(1 for by in self.shown_by.values() if by),
            "responses": self.responses,
            "file_responses": self.file_responses,
            "stream_chunks": self.stream_chunks,
            "log_records": self.log_records,
            "unknown_shaped": len(self.unknown_shaped),
            "seconds": self.seconds,
            "leaks": [asdict(leak) for leak in self.leaks],
        }


_observer = Observer()


@contextlib.contextmanager
def observing(observer: Observer) -> Iterator[Observer]:
    """Send every observation to ``observer`` for a while (the detector's own test)."""
    global _observer
    previous, _observer = _observer, observer
    try:
        yield observer
    finally:
        _observer = previous


# ------------------------------------------------------------------------ responses


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


@web.middleware
async def observe_responses(request: web.Request, handler) -> web.StreamResponse:
    current = Request(next(_request_numbers), request.method, _route(request))
    token = _request.set(current)
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # raised past the error middleware: still an answer
        _observer.check_response(_answer_text(exc.headers, exc.text or ""), current)
        raise
    finally:
        _request.reset(token)
    if isinstance(response, web.Response):
        _observer.check_response(_response_text(response), current)
    elif isinstance(response, web.FileResponse):
        _observer.file_responses += 1
        _observer.check_response(_answer_text(response.headers, ""), current)
    return response


def _answer_text(headers, body: str) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items()) + "\n" + body


def _response_text(response: web.Response) -> str:
    body = response.body
    if isinstance(body, bytes | bytearray):
        content = bytes(body)
    elif body is not None and isinstance(getattr(body, "_value", None), bytes):
        content = body._value  # a BytesPayload
    else:
        content = b""
    return _answer_text(response.headers, content.decode("utf-8", "replace"))


def _observe_writes(write):
    @functools.wraps(write)
    async def observed(self, data, *args, **kwargs):
        current = _request.get()
        if current is not None and data:
            _observer.check_response(bytes(data).decode("utf-8", "replace"), current, chunk=True)
        return await write(self, data, *args, **kwargs)

    return observed


# --------------------------------------------------------------------------- logs


class LogObserver(logging.Handler):
    """Scans each record as the product's handler writes it: masked, then formatted."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self._redaction = RedactionFilter()
        self._formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        started = time.perf_counter()
        copy = logging.makeLogRecord(record.__dict__)  # other handlers see the record as is
        try:
            self._redaction.filter(copy)
            text = self._formatter.format(copy)
        except Exception:  # a record that cannot be rendered is no line in any log either
            return
        finally:
            _observer.seconds += time.perf_counter() - started
        _observer.check_log(text, record.name)


_log_observer = LogObserver()


def _attach_log_observer() -> None:
    root = logging.getLogger()
    if _log_observer not in root.handlers:
        root.addHandler(_log_observer)


# ----------------------------------------------------------------- where secrets are made


def _record_returned(kind: str, channel: str, secret_of):
    """Wrap a minting function (sync or async) so its secret is recorded as created."""

    def wrap(function):
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def minted_async(*args, **kwargs):
                result = await function(*args, **kwargs)
                _observer.create(secret_of(result), kind, channel)
                return result

            return minted_async

        @functools.wraps(function)
        def minted(*args, **kwargs):
            result = function(*args, **kwargs)
            _observer.create(secret_of(result), kind, channel)
            return result

        return minted

    return wrap


#: (owner, attribute, kind, channel, how to get the secret from the result)
MINTS = (
    (api_keys, "_mint", "api key", RESPONSE, lambda result: result[1]),
    (federation_service, "new_inbound_token", "federation token", RESPONSE, lambda r: r[0]),
    (onboarding_service.OnboardingService, "issue", "bootstrap token", RESPONSE, lambda r: r.token),
    (tokens.TokenCodec, "issue", "jwt", RESPONSE, lambda result: result.token),
    (auth_service.AuthService, "_one_time_token", "one-time token", MAIL, lambda token: token),
)


def _install() -> None:
    for owner, attribute, kind, channel, secret_of in MINTS:
        original = getattr(owner, attribute)
        setattr(owner, attribute, _record_returned(kind, channel, secret_of)(original))
    core_middlewares = app_module.core_middlewares
    app_module.core_middlewares = lambda: [observe_responses, *core_middlewares()]
    web.StreamResponse.write = _observe_writes(web.StreamResponse.write)
    web.WebSocketResponse.send_frame = _observe_writes(web.WebSocketResponse.send_frame)
    for module in (app_module, logs_module):
        configure_logging = module.configure_logging

        @functools.wraps(configure_logging)
        def reattaching(*args, _configure=configure_logging, **kwargs):
            _configure(*args, **kwargs)  # it replaces the root's handlers
            _attach_log_observer()

        module.configure_logging = reattaching
    root = logging.getLogger()
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    _attach_log_observer()


# ------------------------------------------------------------------------ pytest hooks

_worker_summaries: list[dict] = []


def pytest_configure(config: pytest.Config) -> None:
    _install()


def pytest_runtest_logstart(nodeid: str, location) -> None:
    _observer.test = nodeid
    _attach_log_observer()  # a test may have replaced the root's handlers


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    summary = getattr(node, "workeroutput", {}).get("secrets_hygiene")
    if summary is not None:
        _worker_summaries.append(summary)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        config.workeroutput["secrets_hygiene"] = _observer.summary()
        return
    summaries = [*_worker_summaries, _observer.summary()]
    total = {
        key: sum(s[key] for s in summaries) for key in summaries[0] if key not in ("leaks", "kinds")
    }
    total["kinds"] = {
        kind: sum(s["kinds"].get(kind, 0) for s in summaries)
        for kind in sorted({kind for s in summaries for kind in s["kinds"]})
    }
    leaks = [leak for s in summaries for leak in s["leaks"]]
    report = os.environ.get("AVREG_SECRETS_HYGIENE_REPORT")
    if report:
        with open(report, "w") as handle:
            json.dump({**total, "leaks": leaks}, handle, indent=2)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.line("")  # after the progress line, which has no newline yet
        reporter.write_line(
            f"secrets hygiene: {total['secrets']} secrets created "
            f"({', '.join(f'{n} {kind}' for kind, n in total['kinds'].items()) or 'none'}), "
            f"{total['shown_in_creation_response']} shown in their creation response; "
            f"{total['responses']} responses ({total['file_responses']} of them files, "
            f"headers only), {total['stream_chunks']} stream chunks and "
            f"{total['log_records']} log records checked; {total['unknown_shaped']} "
            f"secret-shaped strings of unknown origin; {total['seconds']:.1f} s observing; "
            f"{len(leaks)} leak(s)"
        )
    if leaks:
        fail_session(
            session,
            f"secrets hygiene: {len(leaks)} created secret(s) appeared after their creation:",
            [Leak(**leak).line() for leak in leaks[:50]],
        )
