"""PDF letters: the one adapter every letter goes through (rule R8 "unable to process" letters, authorization
determination letters, …), STYLE 9.

A letter is a Django template that extends ``letters/base_letter.html`` and fills its ``body`` block. The
member's language is used when a template exists for it: ``<name>.<language>.html`` (then the base language,
``es`` for ``es-MX``), else ``<name>.html`` in English. WeasyPrint turns the HTML into a tagged PDF.

Letters never fetch anything from the network: the URL fetcher refuses every scheme but ``data:`` and
``file:`` URLs under the static folders, so a link or image pointing to http(s) is skipped and the letter
still renders. Relative URLs (``img/plan-logo.png``) resolve against the web static folder.

Context the base letter reads (objects such as an ``Organization`` or plain dicts):

* ``plan``: the letterhead (``name``, ``address_line``, ``city``, ``state`` (default CA), ``zip_code``,
  ``phone``);
* ``recipient`` (an organization or person with the same address fields) and/or ``recipient_name``;
* ``letter_date`` (default: today, Pacific) and an optional one-line ``subject``.

WeasyPrint needs Pango (``make letter-deps`` installs it on Debian); it is imported only when a letter is
made, so the rest of the app runs without it.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import select_template
from django.utils import translation
from django.utils.text import get_valid_filename

from cshub.core import clock

__all__ = ["letter_template_names", "render_letter_html", "render_letter_pdf", "store_letter"]

DEFAULT_LANGUAGE = "en"
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")
_LOCAL_SCHEMES = frozenset({"file", "data"})


def letter_template_names(template_name: str, language: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """The templates to try, in order, each with the language it is written in:
    ``("x.es-mx.html", "es-mx"), ("x.es.html", "es"), ("x.html", "en")``."""
    name = template_name.removesuffix(".html")
    lang = (language or "").strip().lower().replace("_", "-")
    candidates: list[tuple[str, str]] = []
    if _LANGUAGE_RE.match(lang) and lang != DEFAULT_LANGUAGE:
        candidates.append((f"{name}.{lang}.html", lang))
        base = lang.split("-")[0]
        if base != lang and base != DEFAULT_LANGUAGE:
            candidates.append((f"{name}.{base}.html", base))
    candidates.append((f"{name}.html", DEFAULT_LANGUAGE))
    return candidates


def render_letter_html(
    *, template_name: str, context: Mapping[str, Any], language: str = DEFAULT_LANGUAGE
) -> str:
    """The letter as HTML, in the member's language when a template exists for it (dates and month names
    follow the template's language)."""
    candidates = letter_template_names(template_name, language)
    template = select_template([name for name, _ in candidates])
    used = dict(candidates).get(template.template.name, DEFAULT_LANGUAGE)
    data = dict(context)
    data.setdefault("letter_date", clock.today())
    data["letter_language"] = used
    data["letterhead"] = _letterhead(data.get("plan"))
    data["recipient_lines"] = _recipient_lines(data.get("recipient"), data.get("recipient_name", ""))
    with translation.override(used):
        return template.render(data)


def render_letter_pdf(*, template_name: str, context: dict, language: str = DEFAULT_LANGUAGE) -> bytes:
    """Render a letter template (see the module docstring) to PDF bytes. Fetches nothing from the network."""
    html = render_letter_html(template_name=template_name, context=context, language=language)
    import weasyprint  # here, not at the top: Pango is needed only when a letter is made

    _quiet_font_subsetting()
    document = weasyprint.HTML(string=html, base_url=_static_base_url(), url_fetcher=_local_only_fetcher())
    return document.write_pdf(pdf_variant="pdf/ua-1")


def store_letter(*, pdf: bytes, filename: str) -> str:
    """Keep a PDF in the default file storage under letters/<year>/<month>/; returns its storage name.
    (Domains that keep letters with their records use their own FileField instead.)"""
    today = clock.today()
    name = get_valid_filename(filename) or "letter.pdf"
    return default_storage.save(f"letters/{today:%Y/%m}/{name}", ContentFile(pdf))


# --------------------------------------------------------------------------------------------------------


def _field(obj: Any, name: str) -> str:
    if obj is None:
        return ""
    value = obj.get(name, "") if isinstance(obj, Mapping) else getattr(obj, name, "")
    return "" if value is None else str(value).strip()


def _phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return value


def _city_line(obj: Any) -> str:
    city, zip_code = _field(obj, "city"), _field(obj, "zip_code")
    if not (city or zip_code):
        return ""
    state = _field(obj, "state") or "CA"
    return f"{city}, {state} {zip_code}".strip(" ,") if city else f"{state} {zip_code}"


def _letterhead(plan: Any) -> dict[str, Any]:
    return {
        "name": _field(plan, "name"),
        "address_lines": [line for line in (_field(plan, "address_line"), _city_line(plan)) if line],
        "phone": _phone(_field(plan, "phone")),
    }


def _recipient_lines(recipient: Any, recipient_name: str) -> list[str]:
    lines = [str(recipient_name or "").strip(), _field(recipient, "name")]
    lines += [_field(recipient, "address_line"), _city_line(recipient)]
    unique: list[str] = []
    for line in lines:
        if line and line not in unique:
            unique.append(line)
    return unique


def _static_roots() -> list[Path]:
    roots = []
    for entry in settings.STATICFILES_DIRS:
        path = entry[1] if isinstance(entry, list | tuple) else entry
        roots.append(Path(path).resolve())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def _static_base_url() -> str:
    roots = _static_roots()
    return roots[0].as_uri() + "/" if roots else Path.cwd().as_uri() + "/"


@functools.cache
def _quiet_font_subsetting() -> None:
    """fontTools logs every table it subsets at INFO; a letter needs none of that in the log."""
    font_logger = logging.getLogger("fontTools")
    if font_logger.getEffectiveLevel() < logging.WARNING:
        font_logger.setLevel(logging.WARNING)


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher

    class LocalOnlyURLFetcher(URLFetcher):
        """Fetches ``data:`` URLs and files under the static folders; refuses everything else (http, https,
        ftp, other files), so a letter can never reach the network or read arbitrary files."""

        def __init__(self, roots: list[Path]) -> None:
            super().__init__(allowed_protocols=_LOCAL_SCHEMES, allow_redirects=False, timeout=1)
            self._roots = roots

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme == "file" and not parts.netloc:
                path = Path(url2pathname(parts.path)).resolve()
                if any(path.is_relative_to(root) for root in self._roots):
                    return super().fetch(url, headers)
            elif scheme == "data":
                return super().fetch(url, headers)
            raise ValueError(f"letters load only local static files and data: URLs, not {url[:100]}")

    return LocalOnlyURLFetcher


def _local_only_fetcher() -> Any:
    return _fetcher_class()(_static_roots())
