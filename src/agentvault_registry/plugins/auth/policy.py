"""The password policy: length bounds, no common passwords, not the account's own name."""

from __future__ import annotations

from functools import cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 1024


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(password: str, *, username: str = "", email: str = "") -> list[str]:
    """Why ``password`` is refused; empty when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return [f"Must be at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Must be at most {MAX_LENGTH} characters."]
    lowered = password.lower()
    if lowered in common_passwords():
        return ["Is too common; choose a less guessable password."]
    names = [name.lower() for name in (username, email.partition("@")[0]) if len(name) >= 4]
    if any(name in lowered for name in names):
        return ["Must not contain your username or email name."]
    return []
