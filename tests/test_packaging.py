"""What an installed (non-editable) registry needs is declared as package data."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "agentvault_registry"


def declared_patterns() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config["options.package_data"]["agentvault_registry"].split()


def test_every_non_python_file_in_the_package_is_declared_as_package_data():
    patterns = declared_patterns()
    files = [
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    ]
    assert files, "the package should ship static files, templates and migrations"
    undeclared = [str(path) for path in files if not any(path.match(p) for p in patterns)]
    assert undeclared == []


def test_every_package_data_pattern_matches_something():
    for pattern in declared_patterns():
        assert list(PACKAGE.glob(pattern)), f"package_data pattern {pattern!r} matches nothing"
