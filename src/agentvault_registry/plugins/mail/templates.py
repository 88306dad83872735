"""Rendering a named pair of templates (``<name>.txt`` and ``<name>.html``) into a Message.

The text template's first line is ``Subject: ...`` followed by a blank line; the rest is the
plain-text body. The HTML template gets the same context plus ``subject``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from agentvault_registry.plugins.mail.mailer import Message

SUBJECT_PREFIX = "Subject:"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    # HTML escapes what users control (a username); plain text shows it as written.
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
    # A misspelt variable must fail loudly, not send a mail with an empty link.
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_message(name: str, to: str, **context: Any) -> Message:
    """Render the ``name`` templates for recipient ``to``; raise if a template is missing."""
    subject, text = _split_subject(name, _environment.get_template(f"{name}.txt").render(context))
    html = _environment.get_template(f"{name}.html").render(context, subject=subject)
    return Message(to=to, subject=subject, text=text, html=html)


def _split_subject(name: str, rendered: str) -> tuple[str, str]:
    first_line, _, rest = rendered.partition("\n")
    if not first_line.startswith(SUBJECT_PREFIX):
        raise ValueError(f"mail template {name}.txt must start with a '{SUBJECT_PREFIX}' line")
    # One line, whatever the context held: a line break in a header could add headers.
    subject = " ".join(first_line.removeprefix(SUBJECT_PREFIX).split())
    return subject, rest.lstrip("\n")
