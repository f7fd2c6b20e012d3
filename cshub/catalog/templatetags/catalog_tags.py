"""Showing where a catalog value came from: a link to its source and a visible "verify"/"assumed" mark."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _get(ref: Any, name: str) -> str:
    value = ref.get(name, "") if isinstance(ref, dict) else getattr(ref, name, "")
    return value or ""


@register.inclusion_tag("catalog/_source_mark.html")
def source_mark(ref: Any, sources: dict[str, dict[str, str]], show_note: bool = True) -> dict[str, str]:
    """`ref` has source, confidence and note (a dict from source_notes or a code/limit row); rows that
    show their note in a column of their own pass show_note=False."""
    source = _get(ref, "source")
    if source.startswith("setting:"):
        title = source.removeprefix("setting:")
        label, anchor = f"setting {title}", ""
    else:
        info = (sources or {}).get(source, {})
        label, title, anchor = info.get("short", source), info.get("title", source), f"src-{source}"
    return {
        "label": label,
        "title": title,
        "anchor": anchor,
        "note": _get(ref, "note") if show_note else "",
        "confidence": _get(ref, "confidence"),
    }


@register.filter
def get_item(mapping: dict | None, key: str) -> Any:
    return (mapping or {}).get(key)
