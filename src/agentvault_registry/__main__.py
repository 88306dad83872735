"""``python -m agentvault_registry`` runs the command-line interface."""

from agentvault_registry.cli import main

main()
