"""Where a notification may send its reader: only to a path in this app (no open redirect)."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def is_safe_relative_url(url: str) -> bool:
    """True for a path in this app ("/referrals/…"): no scheme, no host, no "//" or "/\\" tricks and no
    whitespace or control characters, which browsers strip before they resolve a link."""
    if not url or not url.startswith("/") or url.startswith(("//", "/\\")):
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    return url_has_allowed_host_and_scheme(url, allowed_hosts=set(), require_https=False)
