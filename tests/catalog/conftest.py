"""Catalog fixtures: the real catalog loaded, and a writable copy of the catalog files for bad-file tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cshub.catalog.loader import DEFAULT_CATALOG_DIR
from cshub.catalog.services import LoadResult, catalog_load

SERVICE_KEYS = sorted(p.stem for p in (DEFAULT_CATALOG_DIR / "services").glob("*.toml"))


@pytest.fixture
def loaded_catalog(db) -> LoadResult:
    return catalog_load()


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A copy of cshub/data/catalog that a test may break."""
    target = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, target)
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
