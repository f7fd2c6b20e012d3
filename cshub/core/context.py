"""Who is acting, through which channel and from where: set once per request, command or task, read by
the audit log. A contextvar, so threads of the demo server and the worker never see each other's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class ActingContext:
    channel: str = "system"
    ip_address: str | None = None
    request_path: str = ""


_SYSTEM = ActingContext()
_current: ContextVar[ActingContext | None] = ContextVar("cshub_acting_context", default=None)


def current() -> ActingContext:
    return _current.get() or _SYSTEM


@contextlib.contextmanager
def acting(channel: str, ip_address: str | None = None, request_path: str = "") -> Iterator[ActingContext]:
    ctx = ActingContext(channel=channel, ip_address=ip_address, request_path=request_path[:300])
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
