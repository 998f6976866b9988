"""Server-Sent Events framing, as a pure function so tests can compare exact strings.

The format is the WHATWG one: ``field: value`` lines, a blank line ends the event. A ``data``
payload with newlines becomes several ``data:`` lines, which the browser joins back with ``\\n``.
"""
from __future__ import annotations

import json


def format_sse(data: str | None = None, *, event: str | None = None, id: int | str | None = None,
               retry_ms: int | None = None, comment: str | None = None) -> str:
    """Return one SSE message, ending with the blank line that dispatches it."""
    lines: list[str] = []
    if comment is not None:
        lines.extend(f": {part}" if part else ":" for part in comment.split("\n"))
    if event is not None:
        _check_field("event", event)
        lines.append(f"event: {event}")
    if id is not None:
        _check_field("id", str(id))
        lines.append(f"id: {id}")
    if retry_ms is not None:
        lines.append(f"retry: {int(retry_ms)}")
    if data is not None:
        lines.extend(f"data: {part}" for part in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    if not lines:
        raise ValueError("an SSE message needs at least one field")
    return "\n".join(lines) + "\n\n"


def format_json_event(payload: dict, *, event: str | None, id: int | None) -> str:
    """One event whose data is compact JSON (always a single ``data:`` line); ``event=None``
    makes it a plain message, ``id=None`` leaves the id out."""
    return format_sse(json.dumps(payload, separators=(",", ":")), event=event, id=id)


def _check_field(name: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"SSE {name} cannot contain a line break: {value!r}")
