"""The network cast on top of the shared `world` (tests/conftest.py): the catalog loaded, files kept in
a temporary folder, the rate-limit cache empty, and helpers that walk an application to review."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from cshub.accounts.roles import Role
from cshub.catalog.services import catalog_load
from cshub.network import sections, services
from cshub.network.models import Application

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf(name: str = "license.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    cache.clear()
    yield tmp_path / "files"
    cache.clear()


@pytest.fixture
def nw(world, frozen_clock):
    catalog_load()
    world.network = world.plan_users[Role.NETWORK]
    world.admin = world.plan_users[Role.PLAN_ADMIN]
    return world


def full_answers(app: Application) -> dict[str, dict[str, object]]:
    """A complete, valid answer to every question of the application's sections."""
    values = {
        "text": "Yes, described",
        "textarea": "A full answer.",
        "yes_no": "yes",
        "number": "3",
        "date": "2027-01-04",
    }
    out: dict[str, dict[str, object]] = {}
    for section in services.application_sections(app):
        out[section.id] = {
            q.key: (q.choices[0] if q.type == "choice" else values[q.type]) for q in section.questions
        }
    return out


def make_application(w, *, org=None, services_keys=("housing_deposits",), submit=True) -> Application:
    """A certification application of provider A (default), answered in full and, with `submit`, submitted."""
    org = org or w.provider_a
    from cshub.catalog.models import Service
    from cshub.core.models import County

    app = services._new_application(
        actor=None,
        kind=Application.Kind.CERTIFICATION,
        program=Application.Program.CS,
        plan=w.plan,
        organization=org,
        services=list(Service.objects.filter(key__in=services_keys)),
        counties=list(County.objects.filter(name="Sacramento")),
    )
    if submit:
        user = w.alice if org == w.provider_a else w.charlie
        services.application_save_draft(actor=user, application=app, answers=full_answers(app))
        for s in sections.definition().general:
            if s.attachment_required:
                services.application_attach(actor=user, application=app, section=s.id, upload=pdf())
        app = services.application_submit(actor=user, application=app)
    return app
