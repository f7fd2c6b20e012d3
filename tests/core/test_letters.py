"""PDF letters (cshub.core.letters): real PDFs read back with pypdf, the member's language when a template
exists, and no network: a remote URL in a letter is never fetched."""

from __future__ import annotations

import http.server
import io
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.template import TemplateDoesNotExist
from pypdf import PdfReader

from cshub.core import letters
from cshub.core.letters import letter_template_names, render_letter_html, render_letter_pdf, store_letter

pytestmark = pytest.mark.usefixtures("frozen_clock")  # today is 2026-11-23, Pacific

PLAN = {
    "name": "Golden State Health Plan",
    "address_line": "100 Capitol Mall",
    "city": "Sacramento",
    "zip_code": "95814",
    "phone": "9165550100",
}
RECIPIENT = {"name": "Harbor ECM", "address_line": "12 Harbor Way", "city": "Fresno", "zip_code": "93721"}
CONTEXT = {
    "plan": PLAN,
    "recipient": RECIPIENT,
    "recipient_name": "Dana Referrer",
    "subject": "Referral R-2026-000123",
    "paragraphs": ["The referral could not be processed.", "Call us with any questions."],
}


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_renders_a_real_pdf_with_letterhead_recipient_body_and_page_numbers():
    pdf = render_letter_pdf(template_name="letters/notice", context=CONTEXT)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in (
        "Golden State Health Plan",
        "100 Capitol Mall",
        "Sacramento, CA 95814",
        "(916) 555-0100",
        "November 23, 2026",
        "Dana Referrer",
        "Harbor ECM",
        "Fresno, CA 93721",
        "Referral R-2026-000123",
        "Dear Dana Referrer,",
        "The referral could not be processed.",
        "Sincerely,",
        "Page 1 of 1",
    ):
        assert expected in text, expected


def test_context_values_are_escaped_not_markup():
    html = render_letter_html(
        template_name="letters/notice.html", context={**CONTEXT, "paragraphs": ["<b>bold</b> & plain"]}
    )
    assert "<p>&lt;b&gt;bold&lt;/b&gt; &amp; plain</p>" in html


def test_an_organization_works_as_letterhead(world):
    world.plan.address_line, world.plan.phone = "1 Plan Plaza", "9165550199"
    html = render_letter_html(
        template_name="letters/notice", context={"plan": world.plan, "paragraphs": ["Hi"]}
    )
    assert "Golden State Health Plan" in html and "1 Plan Plaza" in html and "(916) 555-0199" in html


def test_long_letters_number_every_page():
    pdf = render_letter_pdf(
        template_name="letters/notice", context={**CONTEXT, "paragraphs": ["A paragraph of the letter."] * 90}
    )
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1].extract_text()


def test_the_members_language_is_used_when_a_template_exists():
    text = pdf_text(render_letter_pdf(template_name="letters/notice", context=CONTEXT, language="es-MX"))
    assert "Estimado/a Dana Referrer:" in text
    assert "23 de noviembre de 2026" in text
    assert "Página 1 de 1" in text and "Teléfono (916) 555-0100" in text
    assert "The referral could not be processed." in text  # the caller's paragraphs, as given


@pytest.mark.parametrize("language", ["es", "es-mx", "ES_mx"])
def test_language_codes_find_the_spanish_template(language):
    html = render_letter_html(template_name="letters/notice", context=CONTEXT, language=language)
    assert '<html lang="es">' in html and "Estimado/a" in html


def test_falls_back_to_english_without_a_template_for_the_language():
    text = pdf_text(render_letter_pdf(template_name="letters/notice", context=CONTEXT, language="vi"))
    assert "Dear Dana Referrer," in text and "November 23, 2026" in text and "Page 1 of 1" in text


@pytest.mark.parametrize("language", ["en", "", "zz", "../../etc/passwd", "es/../../x"])
def test_unknown_or_odd_language_codes_fall_back_to_english(language):
    html = render_letter_html(template_name="letters/notice", context=CONTEXT, language=language)
    assert '<html lang="en">' in html and "Dear Dana Referrer," in html


def test_template_names_tried_in_order():
    assert letter_template_names("referrals/letters/r8", "es-MX") == [
        ("referrals/letters/r8.es-mx.html", "es-mx"),
        ("referrals/letters/r8.es.html", "es"),
        ("referrals/letters/r8.html", "en"),
    ]
    assert letter_template_names("x.html", "en") == [("x.html", "en")]


def test_a_missing_template_is_an_error():
    with pytest.raises(TemplateDoesNotExist):
        render_letter_pdf(template_name="letters/no_such_letter", context=CONTEXT)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red; }")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    """A web server on this machine that records whether anything asked it for a file."""
    _CountingHandler.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def remote_letter_template(settings, local_server):
    """A letter whose template points at remote resources (an in-memory template beside the real ones)."""
    base, _ = local_server
    source = (
        '{% extends "letters/base_letter.html" %}'
        "{% block body %}"
        '<link rel="stylesheet" href="' + base + '/style.css">'
        '<img src="' + base + '/logo.png" alt="logo">'
        '<img src="' + base.replace("http:", "https:") + '/secure-logo.png" alt="remote logo">'
        '<img src="file:///etc/hostname" alt="a file outside the static folders">'
        "<p>{{ paragraphs.0 }}</p>{% endblock %}"
    )
    engine = {**django_settings.TEMPLATES[0], "APP_DIRS": False}
    engine["OPTIONS"] = {
        **engine["OPTIONS"],
        "loaders": [
            ("django.template.loaders.locmem.Loader", {"letters/test_remote.html": source}),
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    }
    settings.TEMPLATES = [engine]
    return "letters/test_remote"


def test_remote_urls_in_a_letter_are_never_fetched(remote_letter_template, local_server):
    _, hits = local_server
    pdf = render_letter_pdf(template_name=remote_letter_template, context=CONTEXT)
    assert pdf.startswith(b"%PDF")
    assert "The referral could not be processed." in pdf_text(pdf)
    assert hits == []
    # The control: WeasyPrint's own fetcher would have asked the server for them.
    import weasyprint

    html = letters.render_letter_html(template_name=remote_letter_template, context=CONTEXT)
    weasyprint.HTML(string=html).write_pdf()
    assert {"/style.css", "/logo.png"} <= set(hits)


def test_the_fetcher_allows_only_static_files_and_data_urls(local_server, tmp_path):
    base, hits = local_server
    fetcher = letters._local_only_fetcher()
    static_css = Path(django_settings.STATICFILES_DIRS[0]) / "css" / "cshub.css"
    response = fetcher.fetch(static_css.resolve().as_uri())
    assert b".bg-primary-dark" in response.read()
    response.close()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    secret = tmp_path / "secret.txt"
    secret.write_text("not for letters")
    for url in (f"{base}/x.png", "https://example.org/x.png", secret.as_uri(), "ftp://example.org/x"):
        with pytest.raises(ValueError, match="local static files"):
            fetcher.fetch(url)
    assert hits == []


def test_store_letter_keeps_the_pdf(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    name = store_letter(pdf=b"%PDF-1.7 test", filename="R-1 unable to process.pdf")
    assert name == "letters/2026/11/R-1_unable_to_process.pdf"
    assert (tmp_path / name).read_bytes() == b"%PDF-1.7 test"
