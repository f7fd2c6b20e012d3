"""Writes to the catalog: only `catalog_load` writes these tables (rules G1, G2; DESIGN principle 1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from cshub.catalog.loader import CatalogSpec, read_catalog
from cshub.catalog.models import Service, ServiceCode, ServiceLimit
from cshub.core import clock
from cshub.core.audit import audit_record

CODE_FIELDS = ("description", "billing_unit", "note", "source", "confidence")


@dataclass(frozen=True)
class LoadResult:
    catalog_version: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    codes_created: int = 0
    codes_updated: int = 0
    codes_deactivated: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.created,
                self.updated,
                self.deactivated,
                self.codes_created,
                self.codes_updated,
                self.codes_deactivated,
            )
        )

    def summary(self) -> str:
        return (
            f"Catalog {self.catalog_version}: services {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.deactivated} deactivated; "
            f"codes {self.codes_created} created, {self.codes_updated} updated, "
            f"{self.codes_deactivated} deactivated."
        )


def catalog_load(*, actor: Any = None, directory: Path | None = None) -> LoadResult:
    """Read and validate every catalog file, then upsert services, codes and limits in one transaction.

    Idempotent: a second run with the same files and settings changes nothing. A service no longer in the
    files is marked inactive (never deleted: authorizations and claims point at it), as is a code no longer
    in hcpcs.csv. Invalid files raise DomainError naming each file and field, and nothing is written.
    Locks: every catalog row (select_for_update) for the length of the load.
    """
    spec = read_catalog(directory)
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        counts: dict[str, int] = {}
        services = _upsert_services(spec, user, counts)
        _upsert_codes(spec, services, user, counts)
        result = LoadResult(catalog_version=spec.version, **counts)
        if result.changed:
            audit_record(
                actor=user,
                action="import",
                object_type="catalog",
                object_id=spec.version,
                detail={**asdict(result), "directory": str(spec.directory)},
            )
    return result


def _upsert_services(spec: CatalogSpec, user: Any, counts: dict[str, int]) -> dict[str, Service]:
    existing = {s.key: s for s in Service.objects.select_for_update()}
    created = updated = unchanged = 0
    changed_specs = []
    by_key: dict[str, Service] = {}
    for service_spec in spec.services:
        values = {**service_spec.values, "content_hash": service_spec.content_hash}
        service = existing.get(service_spec.key)
        if service is None:
            service = Service.objects.create(key=service_spec.key, created_by=user, updated_by=user, **values)
            created += 1
            changed_specs.append((service, service_spec))
        elif service.content_hash == values["content_hash"] and service.active == values["active"]:
            unchanged += 1
        else:
            for name, value in values.items():
                setattr(service, name, value)
            service.updated_by = user
            service.save()
            updated += 1
            changed_specs.append((service, service_spec))
        by_key[service_spec.key] = service

    # Limits belong to their service: rewritten whenever the service's data changed.
    if changed_specs:
        ServiceLimit.objects.filter(service__in=[s for s, _ in changed_specs]).delete()
        ServiceLimit.objects.bulk_create(
            ServiceLimit(service=service, created_by=user, updated_by=user, **limit.model_values())
            for service, service_spec in changed_specs
            for limit in service_spec.limits
        )

    gone = [s for key, s in existing.items() if key not in by_key and s.active]
    for service in gone:
        service.active = False
        service.updated_by = user
        service.save(update_fields=["active", "updated_by", "updated_at"])
    counts.update(created=created, updated=updated, unchanged=unchanged, deactivated=len(gone))
    return by_key


def _upsert_codes(spec: CatalogSpec, services: dict[str, Service], user: Any, counts: dict[str, int]) -> None:
    existing = {(c.hcpcs, c.modifier): c for c in ServiceCode.objects.select_for_update()}
    wanted = set()
    new, changed = [], []
    for code in spec.codes:
        service = services[code.service_key]
        wanted.add((code.hcpcs, code.modifier))
        values = {name: getattr(code, name) for name in CODE_FIELDS}
        row = existing.get((code.hcpcs, code.modifier))
        if row is None:
            new.append(
                ServiceCode(
                    service=service,
                    hcpcs=code.hcpcs,
                    modifier=code.modifier,
                    active=service.active,
                    created_by=user,
                    updated_by=user,
                    **values,
                )
            )
            continue
        target = {**values, "service_id": service.id, "active": service.active}
        if any(getattr(row, name) != value for name, value in target.items()):
            for name, value in target.items():
                setattr(row, name, value)
            row.updated_by = user
            changed.append(row)
    gone = [row for key, row in existing.items() if key not in wanted and row.active]
    for row in gone:
        row.active = False
        row.updated_by = user
    now = clock.now()
    for row in changed + gone:
        row.updated_at = now  # bulk_update skips auto_now
    ServiceCode.objects.bulk_create(new)
    ServiceCode.objects.bulk_update(
        changed + gone, ["service", "active", "updated_by", "updated_at", *CODE_FIELDS]
    )
    counts.update(codes_created=len(new), codes_updated=len(changed), codes_deactivated=len(gone))
