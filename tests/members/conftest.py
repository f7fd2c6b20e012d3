from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    """Roster files and error reports go to a temporary folder, not var/files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }
    return tmp_path / "files"


@pytest.fixture
def plan_admin(world):
    return world.plan_users["plan_admin"]
