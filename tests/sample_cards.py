"""A2A Agent Cards the tests register (importable as ``sample_cards``)."""

from __future__ import annotations

from typing import Any

V1_CARD: dict[str, Any] = {
    "name": "Translator",
    "description": "Translates documents between languages.",
    "supportedInterfaces": [
        {
            "url": "https://translator.example.com/a2a",
            "protocolBinding": "JSONRPC",
            "protocolVersion": "1.0",
        }
    ],
    "version": "2.1.0",
    "capabilities": {"streaming": True},
    "defaultInputModes": ["text/plain"],
    "defaultOutputModes": ["text/plain"],
    "skills": [
        {
            "id": "translate",
            "name": "Translate",
            "description": "Translate a text.",
            "tags": ["language", "translation"],
        }
    ],
}

V03_CARD: dict[str, Any] = {
    "protocolVersion": "0.3.0",
    "name": "Summarizer",
    "description": "Summarizes long documents.",
    "url": "https://summarizer.example.com/a2a",
    "preferredTransport": "JSONRPC",
    "version": "1.0.0",
    "capabilities": {"streaming": False},
    "defaultInputModes": ["text/plain"],
    "defaultOutputModes": ["text/plain"],
    "skills": [
        {"id": "summarize", "name": "Summarize", "description": "Summarize.", "tags": ["text"]}
    ],
}
