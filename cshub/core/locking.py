"""Optimistic locking (DESIGN principle: two people changing one record conflict instead of overwriting):
a versioned row is written only at the version its writer read, and the version goes up in the same
statement. Services lock the row first (select_for_update) and compare the caller's expected version."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import F

from cshub.core.errors import ConflictError


def save_versioned(obj: models.Model, fields: Iterable[str]) -> None:
    """Write `fields` of `obj` and raise its `version` by one, only if the row is still at obj.version."""
    names = list(fields)
    updated = (
        type(obj)
        .objects.filter(pk=obj.pk, version=obj.version)
        .update(version=F("version") + 1, **{name: getattr(obj, name) for name in names})
    )
    if updated != 1:  # cannot happen under the row lock, but never write blind
        raise ConflictError()
    obj.version += 1
