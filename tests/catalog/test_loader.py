"""The catalog loader: every file validated, one transaction, idempotent (rules G1, G2, A6, A8, C1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cshub.catalog.apps import check_catalog_files
from cshub.catalog.loader import read_catalog
from cshub.catalog.models import Service, ServiceCode, ServiceLimit
from cshub.catalog.services import catalog_load
from cshub.core.errors import DomainError
from cshub.core.models import AuditEvent
from tests.catalog.conftest import SERVICE_KEYS, replace_in


def _snapshot() -> list[tuple]:
    services = list(
        Service.objects.order_by("key").values_list("key", "content_hash", "active", "updated_at")
    )
    codes = list(
        ServiceCode.objects.order_by("hcpcs", "modifier").values_list(
            "hcpcs", "modifier", "service_id", "active", "updated_at"
        )
    )
    limits = list(ServiceLimit.objects.order_by("id").values_list("id", "service_id", "kind", "value"))
    return [*services, *codes, *limits]


@pytest.mark.django_db
def test_g1_loads_all_15_services_from_the_real_files():
    """Rule G1: each service has a guide; the 14 of the Reference Guide plus Transitional Rent."""
    result = catalog_load()
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (15, 0, 0, 0)
    assert result.catalog_version == "2026-01"
    assert sorted(Service.objects.values_list("key", flat=True)) == SERVICE_KEYS
    assert len(SERVICE_KEYS) == 15 and "transitional_rent" in SERVICE_KEYS
    assert result.codes_created == ServiceCode.objects.count() == 45
    for service in Service.objects.prefetch_related("codes"):
        assert service.name and service.description and service.overview, service.key
        assert service.eligibility, service.key
        assert service.codes.all(), service.key
        assert service.catalog_version == "2026-01"
    assert AuditEvent.objects.filter(object_type="catalog", action="import").count() == 1


@pytest.mark.django_db
def test_g1_loading_twice_changes_nothing():
    """Rule G1 / DESIGN principle 5: the same files twice = no change (and no second audit row)."""
    catalog_load()
    before = _snapshot()
    result = catalog_load()
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 0, 15, 0)
    assert (result.codes_created, result.codes_updated, result.codes_deactivated) == (0, 0, 0)
    assert not result.changed
    assert _snapshot() == before
    assert AuditEvent.objects.filter(object_type="catalog").count() == 1


@pytest.mark.django_db
def test_g1_a_changed_value_updates_only_that_service(catalog_copy: Path):
    """Rule G1: a data change is a file change; only the service it touches is rewritten."""
    catalog_load(directory=catalog_copy)
    replace_in(catalog_copy / "services" / "respite_services.toml", "value = 336", "value = 400")
    result = catalog_load(directory=catalog_copy)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 14)
    assert Service.objects.get(key="respite_services").limits.get().value == 400


@pytest.mark.django_db
def test_g1_a_service_removed_from_the_files_is_marked_inactive(catalog_copy: Path):
    """Rule G1: a removed service is deactivated, never deleted (authorizations point at it)."""
    catalog_load(directory=catalog_copy)
    (catalog_copy / "services" / "respite_services.toml").unlink()
    csv_path = catalog_copy / "hcpcs.csv"
    lines = [line for line in csv_path.read_text().splitlines() if not line.startswith("respite_services,")]
    csv_path.write_text("\n".join(lines) + "\n")
    result = catalog_load(directory=catalog_copy)
    assert (result.deactivated, result.unchanged, result.codes_deactivated) == (1, 14, 3)
    respite = Service.objects.get(key="respite_services")
    assert not respite.active
    assert not respite.codes.filter(active=True).exists()
    # Put back: the service comes back active with its codes.
    result = catalog_load()
    assert result.updated == 1 and result.codes_updated == 3
    assert Service.objects.get(key="respite_services").active


@pytest.mark.django_db
def test_g1_adding_a_service_needs_only_a_file(catalog_copy: Path):
    """Rule G1 (and Transitional Rent, policy_updates item 2): a new service is a new file, no code change."""
    source = (catalog_copy / "services" / "day_habilitation.toml").read_text()
    new = source.replace('key = "day_habilitation"', 'key = "community_health_workers"').replace(
        'name = "Day Habilitation Programs"', 'name = "Community Health Worker Services"'
    )
    (catalog_copy / "services" / "community_health_workers.toml").write_text(new)
    with (catalog_copy / "hcpcs.csv").open("a") as fh:
        fh.write("community_health_workers,T2099,U6,per diem,Test descriptor,,dhcs_coding_options,verify\n")
    result = catalog_load(directory=catalog_copy)
    assert result.created == 16 and Service.objects.count() == 16
    assert Service.objects.get(key="community_health_workers").codes.get().code == "T2099-U6"


BAD_FILES = [
    pytest.param(
        "services/housing_deposits.toml", 'kind = "required"', 'kind = "sometimes"',
        "services/housing_deposits.toml:authorization.kind", "unknown_authorization",
        id="unknown-authorization",
    ),
    pytest.param(
        "hcpcs.csv", "recuperative_care,T2033,U6", "recuperative_care,T233,U6",
        "hcpcs.csv:hcpcs", "bad_hcpcs", id="bad-hcpcs",
    ),
    pytest.param(
        "hcpcs.csv", "recuperative_care,T2033,U6", "recuperative_care,T2033,U",
        "hcpcs.csv:modifier", "bad_modifier", id="bad-modifier",
    ),
    pytest.param(
        "hcpcs.csv", "respite_services,H0045,U6", "respite_services,H0043,U6",
        "hcpcs.csv:modifier", "duplicate_code", id="duplicate-code-across-services",
    ),
    pytest.param(
        "services/respite_services.toml", 'name = "Respite Services"\n', "",
        "services/respite_services.toml:name", "required", id="missing-name",
    ),
    pytest.param(
        "services/respite_services.toml", "[authorization]", "[authorisation]",
        "services/respite_services.toml:authorisation", "unknown_field", id="misspelt-field",
    ),
    pytest.param(
        "services/respite_services.toml", 'source = "healthnet_cs_process"', 'source = "a_blog"',
        "services/respite_services.toml:authorization.source", "unknown_source", id="unknown-source",
    ),
    pytest.param(
        "services/transitional_rent.toml", "value = 6\n", "value = 5\n",
        "services/transitional_rent.toml:limits[1].value", "invalid", id="shared-limit-disagrees",
    ),
    pytest.param(
        "services/sobering_centers.toml", 'category = "recuperative"', 'category = "recuperative',
        "services/sobering_centers.toml", "bad_toml", id="broken-toml",
    ),
    pytest.param(
        "services/sobering_centers.toml",
        'unit = "none"\nsource = "anthem', 'unit = "fortnights"\nsource = "anthem',
        "services/sobering_centers.toml:initial_authorization.unit", "required", id="unknown-length-unit",
    ),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("filename", "old", "new", "field", "code"), BAD_FILES)
def test_g1_bad_files_give_specific_errors_and_change_nothing(catalog_copy, filename, old, new, field, code):
    """Rule G1 / DESIGN principle 6: a bad value names its file and field; nothing is written."""
    catalog_load()
    before = _snapshot()
    replace_in(catalog_copy / filename, old, new)
    with pytest.raises(DomainError) as caught:
        catalog_load(directory=catalog_copy)
    errors = caught.value.errors
    assert any(e.field == field and e.code == code for e in errors), [e.as_dict() for e in errors]
    assert caught.value.code == "catalog_invalid"
    assert _snapshot() == before


def test_g1_csv_errors_carry_the_row_number(catalog_copy: Path):
    replace_in(catalog_copy / "hcpcs.csv", "housing_deposits,H0044,U2", "housing_deposits,h0044,U2")
    with pytest.raises(DomainError) as caught:
        read_catalog(catalog_copy)
    (error,) = caught.value.errors
    assert (error.field, error.row) == ("hcpcs.csv:hcpcs", 4)
    assert "'h0044' is not a HCPCS code" in str(caught.value)


def test_g1_a_service_without_codes_is_an_error(catalog_copy: Path):
    csv_path = catalog_copy / "hcpcs.csv"
    lines = [line for line in csv_path.read_text().splitlines() if not line.startswith("sobering_centers,")]
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DomainError) as caught:
        read_catalog(catalog_copy)
    assert [e.code for e in caught.value.errors] == ["no_codes"]


def test_g1_unknown_values_come_from_named_settings(settings):
    """Rule G1: an unknown value is not invented: it comes from a named setting and is marked assumed."""
    settings.CSHUB_CATALOG_DEFAULT_INITIAL_AUTH_MONTHS = 3
    specs = {s.key: s for s in read_catalog().services}
    tenancy = specs["housing_tenancy_sustaining"].values
    assert (tenancy["initial_auth_length"], tenancy["initial_auth_unit"]) == (3, "months")
    assert tenancy["source_notes"]["initial_authorization"] == {
        "source": "setting:CSHUB_CATALOG_DEFAULT_INITIAL_AUTH_MONTHS",
        "confidence": "assumed",
        "note": "No source found for this length.",
    }
    navigation = specs["housing_transition_navigation"].values
    assert (navigation["initial_auth_length"], navigation["initial_auth_unit"]) == (12, "months")
    assert navigation["source_notes"]["initial_authorization"]["confidence"] == "verify"
    rent = specs["transitional_rent"].values
    assert rent["authorization"] == "required"
    assert rent["source_notes"]["authorization"]["source"] == "setting:CSHUB_CATALOG_DEFAULT_AUTHORIZATION"


def test_g1_a_bad_setting_is_reported_by_name(settings):
    settings.CSHUB_CATALOG_DEFAULT_AUTHORIZATION = "maybe"
    with pytest.raises(DomainError) as caught:
        read_catalog()
    assert {e.field for e in caught.value.errors} == {"settings.CSHUB_CATALOG_DEFAULT_AUTHORIZATION"}


def test_g2_a_plan_can_choose_authorization_where_dhcs_lets_it(settings):
    """Rule G2: recuperative care is presumptive or required at the plan's choice; a setting picks."""
    settings.CSHUB_CATALOG_AUTHORIZATION_OVERRIDES = {"recuperative_care": "required"}
    specs = {s.key: s for s in read_catalog().services}
    assert specs["recuperative_care"].values["authorization"] == "required"
    assert specs["short_term_post_hospitalization_housing"].values["authorization"] == "presumptive"
    settings.CSHUB_CATALOG_AUTHORIZATION_OVERRIDES = {"respite_services": "not_required"}
    with pytest.raises(DomainError) as caught:
        read_catalog()
    assert (
        caught.value.errors[0].field == "settings.CSHUB_CATALOG_AUTHORIZATION_OVERRIDES['respite_services']"
    )


@pytest.mark.django_db
def test_g1_catalog_command_loads_and_checks(capsys, catalog_copy: Path):
    call_command("catalog", "load")
    assert "services 15 created" in capsys.readouterr().out
    call_command("catalog", "load")
    assert "15 unchanged" in capsys.readouterr().out
    call_command("catalog", "check")
    assert "15 services and 45 codes, valid" in capsys.readouterr().out
    replace_in(catalog_copy / "hcpcs.csv", "recuperative_care,T2033,U6", "recuperative_care,T2033,U")
    with pytest.raises(CommandError, match="not valid"):
        call_command("catalog", "load", "--dir", str(catalog_copy))
    assert "hcpcs.csv:modifier row" in capsys.readouterr().err


def test_g1_the_files_pass_the_start_up_check():
    assert check_catalog_files() == []


def test_g1_wrong_types_are_reported_not_crashes(catalog_copy: Path):
    """DESIGN principle 6: malformed data gets a clear error per field, never an exception."""
    path = catalog_copy / "services" / "day_habilitation.toml"
    replace_in(path, "order = 100", 'order = true\naliases = 5\nlimits = "none"')
    replace_in(path, 'aliases = ["Day Habilitation"]\n', "")
    replace_in(path, 'kind = "required"', 'kind = ["required"]')
    with path.open("a") as fh:
        fh.write('\n[initial_authorization]\nunit = ["days"]\nlength = "ten"\nsource = "reference_guide"\n')
        fh.write('confidence = "sure"\n')
    with pytest.raises(DomainError) as caught:
        read_catalog(catalog_copy)
    fields = {e.field for e in caught.value.errors}
    prefix = "services/day_habilitation.toml:"
    assert {
        f"{prefix}order",
        f"{prefix}aliases",
        f"{prefix}limits",
        f"{prefix}authorization.kind",
        f"{prefix}initial_authorization.unit",
        f"{prefix}initial_authorization.confidence",
    } <= fields


def test_g1_a_header_only_csv_reports_missing_codes(catalog_copy: Path):
    csv_path = catalog_copy / "hcpcs.csv"
    header = next(line for line in csv_path.read_text().splitlines() if line.startswith("service,"))
    csv_path.write_text(header + "\n")
    with pytest.raises(DomainError) as caught:
        read_catalog(catalog_copy)
    assert {e.code for e in caught.value.errors} == {"no_codes"}
    assert len(caught.value.errors) == 15
