"""What the developer portal's and the wizard's browser tests share: an agent card."""

from __future__ import annotations

from typing import Any


def agent_card(name: str = "Card Agent", **extra: Any) -> dict[str, Any]:
    """A valid A2A 1.0 Agent Card."""
    return {
        "name": name,
        "description": f"{name} answers from its card.",
        "version": "1.0.0",
        "supportedInterfaces": [
            {
                "url": "https://card-agent.example.com/a2a",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0",
            }
        ],
        "capabilities": {"streaming": False},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [
            {
                "id": "answer",
                "name": "Answer",
                "description": "Answers questions.",
                "tags": ["qa"],
            }
        ],
    } | extra
