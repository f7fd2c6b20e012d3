"""Spam resistance for public forms without third parties (rule R1's self-referral form, rule N1's Provider
Interest Form): a limit of saved submissions per client address and fixed window, kept in the cache. The
limit is a setting like "5/h", "20/d" or "3/10m"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from cshub.core import clock
from cshub.core.middleware import client_ip

RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class SubmissionLimit:
    scope: str  # cache key prefix, one per form
    setting: str  # name of the setting holding the rate
    default: str = "5/h"

    def rate(self) -> tuple[int, int]:
        """The setting as (count, seconds); ImproperlyConfigured when it is not like '5/h'."""
        raw = str(getattr(settings, self.setting, self.default))
        match = RATE_RE.match(raw)
        if not match:
            raise ImproperlyConfigured(f"{self.setting} {raw!r} is not like '5/h'.")
        count, multiple, unit = match.groups()
        return int(count), int(multiple or 1) * PERIOD_SECONDS[unit]

    def _window(self, request: HttpRequest) -> tuple[str, int, int]:
        """The cache key of this client's current window, the limit, and the seconds left in the window."""
        limit, seconds = self.rate()
        now = int(clock.now().timestamp())
        return (
            f"{self.scope}:{client_ip(request) or 'unknown'}:{now // seconds}",
            limit,
            seconds - now % seconds,
        )

    def seconds_to_wait(self, request: HttpRequest) -> int:
        """Seconds until this client may submit again, or 0 when it may submit now."""
        key, limit, left = self._window(request)
        return left if (cache.get(key) or 0) >= limit else 0

    def count(self, request: HttpRequest) -> None:
        """Count one saved submission of this client."""
        key, _, left = self._window(request)
        if cache.add(key, 1, timeout=left + 1):
            return
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=left + 1)
