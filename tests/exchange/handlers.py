"""Inbox handlers the exchange tests register through override_settings(CSHUB_INBOX_HANDLERS=[...])."""

from __future__ import annotations

import threading

from cshub.core.errors import DomainError
from cshub.exchange.inbox import InboxOutcome

RECEIVED: list[tuple[str, str, bytes, str]] = []  # (organization uuid, filename, data, thread name)


def echo_handler(organization, filename: str, data: bytes) -> InboxOutcome | None:
    """Takes .txt files; answers with `<name>.ack` holding the bytes it got."""
    if not filename.endswith(".txt"):
        return None
    RECEIVED.append((str(organization.uuid), filename, data, threading.current_thread().name))
    return InboxOutcome(message=f"took {len(data)} bytes", replies=[(f"{filename}.ack", b"ACK " + data)])


echo_handler.accepts = "test text files (.txt)"


def refusing_handler(organization, filename: str, data: bytes) -> InboxOutcome | None:
    if not filename.endswith(".bad"):
        return None
    raise DomainError("The file is not valid: segment 3 is missing.")


def broken_handler(organization, filename: str, data: bytes) -> InboxOutcome | None:
    if not filename.endswith(".boom"):
        return None
    raise RuntimeError("a bug")


ALL = [
    "tests.exchange.handlers.refusing_handler",
    "tests.exchange.handlers.broken_handler",
    "tests.exchange.handlers.echo_handler",
]
