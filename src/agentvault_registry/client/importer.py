"""Bulk publishing of card files: what ``agentvault-registry import`` does.

Each card is sent as ``POST /agents`` with ``metadata.cardSha256`` (the SHA-256 of the file's
bytes), so the registry itself remembers which file an agent came from. Before publishing,
the importer lists the developer's agents: a file whose hash is already there is "already
present", with or without a journal, so a second run publishes nothing new. The journal
(under the config directory, keyed by what was imported) records each file's hash and
outcome as it is known, so an interrupted run resumes without resending the cards the
registry refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentvault_registry.client.api import RegistryClient
from agentvault_registry.client.errors import RateLimitedError, RegistryAPIError

HASH_KEY = "cardSha256"
SOURCE_KEY = "importedFrom"
ACCEPTED = "accepted"
PRESENT = "present"
REFUSED = "refused"
#: Retries of a card creation answered 429 (the limiter refused it before anything was
#: written, so resending is safe).
CREATE_RETRIES = 8
MAX_RATE_LIMIT_WAIT = 120.0


@dataclass
class Outcome:
    """What became of one file."""

    file: str
    sha256: str
    status: str
    agent_id: str | None = None
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def reasons(self) -> list[str]:
        """The refusal's field errors as ``field: reason`` lines."""
        lines = []
        for name, reasons in sorted(self.details.items()):
            for reason in reasons if isinstance(reasons, list) else [reasons]:
                lines.append(f"{name}: {reason}")
        return lines


@dataclass
class Summary:
    """The outcome of every file, in the order they were given."""

    outcomes: list[Outcome]

    def with_status(self, status: str) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]

    def refusals_by_reason(self) -> dict[str, list[Outcome]]:
        """Refused files grouped by error code and message."""
        groups: dict[str, list[Outcome]] = {}
        for outcome in self.with_status(REFUSED):
            groups.setdefault(f"{outcome.code}: {outcome.message}", []).append(outcome)
        return groups

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": len(self.with_status(ACCEPTED)),
            "already_present": len(self.with_status(PRESENT)),
            "refused": len(self.with_status(REFUSED)),
            "files": [asdict(outcome) for outcome in self.outcomes],
        }


def card_files(sources: Iterable[Path]) -> list[Path]:
    """The ``*.json`` files of ``sources``: directories searched recursively, files as
    given; each once, sorted within a directory."""
    found: list[Path] = []
    for source in sources:
        found.extend(sorted(source.rglob("*.json")) if source.is_dir() else [source])
    return list(dict.fromkeys(path.resolve() for path in found))


def journal_path(directory: Path, sources: Sequence[Path]) -> Path:
    """The journal of an import of ``sources`` (one per set of sources, never inside them:
    a corpus may be read-only or shared)."""
    key = "\n".join(sorted(str(source.resolve()) for source in sources))
    return directory / "imports" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.jsonl"


class Journal:
    """Per file, its hash and the outcome last recorded for it: one JSON line appended per
    outcome (a run killed mid-write loses at most its last line), the last line of a file
    winning when it is read back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                entry = json.loads(line)
                self.entries[entry["file"]] = entry
            except (ValueError, TypeError, KeyError):
                continue  # a torn last line: that file is simply imported again
        if len(lines) > 2 * len(self.entries) + 16:
            self._compact()

    def _compact(self) -> None:
        """Rewrite the journal with one line per file (each run appends a line per file)."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        lines = "".join(json.dumps(entry) + "\n" for entry in self.entries.values())
        temporary.write_text(lines, encoding="utf-8")
        os.replace(temporary, self.path)

    def recorded(self, file: str, sha256: str) -> Outcome | None:
        entry = self.entries.get(file)
        if not entry or entry.get("sha256") != sha256:
            return None
        try:
            return Outcome(**entry)
        except TypeError:
            return None  # written by another version of the client

    def forget(self) -> None:
        """Start afresh: what the journal knew is ignored and overwritten."""
        self.entries = {}
        self.path.unlink(missing_ok=True)

    def record(self, outcome: Outcome) -> None:
        self.entries[outcome.file] = asdict(outcome)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.path.open("a", encoding="utf-8") as journal:
            journal.write(json.dumps(asdict(outcome)) + "\n")


async def registered_hashes(client: RegistryClient) -> dict[str, str]:
    """The card hashes of the caller's agents, each with its agent's id."""
    hashes: dict[str, str] = {}
    async for agent in client.iter_agents(mine=True, fields=["id", "metadata"]):
        sha256 = (agent.get("metadata") or {}).get(HASH_KEY)
        if isinstance(sha256, str):
            hashes[sha256] = agent["id"]
    return hashes


async def _create(client: RegistryClient, document: Any, sha256: str, name: str) -> str:
    metadata = {HASH_KEY: sha256, SOURCE_KEY: name}
    for attempt in range(CREATE_RETRIES + 1):
        try:
            return (await client.create_agent(card=document, metadata=metadata))["id"]
        except RateLimitedError as exc:
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            if attempt == CREATE_RETRIES or wait > MAX_RATE_LIMIT_WAIT:
                raise
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _is_refusal(error: RegistryAPIError) -> bool:
    """A verdict on the card itself, as opposed to the registry or the credentials failing
    (which no other card would escape either)."""
    return 400 <= error.status < 500 and error.status not in {401, 429}


async def _publish(
    client: RegistryClient, path: Path, raw: bytes, sha256: str, name: str
) -> Outcome:
    try:
        document = json.loads(raw)
    except ValueError as exc:
        return Outcome(name, sha256, REFUSED, code="invalid_json", message=f"not JSON: {exc}")
    if not isinstance(document, dict):
        return Outcome(name, sha256, REFUSED, code="not_a_card", message="not a JSON object")
    try:
        agent_id = await _create(client, document, sha256, path.name)
    except RegistryAPIError as exc:
        if not _is_refusal(exc):
            raise
        return Outcome(
            name, sha256, REFUSED, code=exc.code, message=exc.message, details=exc.details
        )
    return Outcome(name, sha256, ACCEPTED, agent_id=agent_id)


async def import_cards(
    client: RegistryClient,
    files: Sequence[Path],
    journal: Journal,
    present: dict[str, str],
    *,
    concurrency: int = 4,
    progress: Callable[[Outcome], None] = lambda outcome: None,
) -> Summary:
    """Publish every file of ``files`` whose hash is not among the ``present`` ones (what
    :func:`registered_hashes` found), ``concurrency`` at a time.

    A refusal (a 4xx with the registry's error) is one file's outcome and never stops the
    run; losing the registry (connection errors, 401, 5xx, a rate limit it does not lift)
    does, with the journal kept so far.
    """
    present = dict(present)
    gate = asyncio.Semaphore(concurrency)
    # Two files with the same bytes: the second waits for the first, then finds it present.
    same_bytes: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def one(path: Path) -> Outcome:
        name = str(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            outcome = Outcome(name, "", REFUSED, code="unreadable_file", message=str(exc))
            progress(outcome)
            return outcome
        sha256 = hashlib.sha256(raw).hexdigest()
        async with same_bytes[sha256]:
            if sha256 in present:
                outcome = Outcome(name, sha256, PRESENT, agent_id=present[sha256])
            else:
                outcome = journal.recorded(name, sha256)
                if outcome is None or outcome.status != REFUSED:
                    async with gate:
                        outcome = await _publish(client, path, raw, sha256, name)
                    if outcome.status == ACCEPTED:
                        present[sha256] = outcome.agent_id or ""
        journal.record(outcome)
        progress(outcome)
        return outcome

    return Summary(list(await asyncio.gather(*(one(path) for path in files))))
