"""The provider network of `cshub seed` (cshub/devtools/seed_network.py), made through the services of
issue 4: the public directory, executed contracts with rates, certifications, training, capacity reports and
the network queue are there after a small seed, the demo provider has its own story, and `--reset` removes
it all.

Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command

from cshub.accounts.models import Organization, User
from cshub.accounts.roles import OrganizationKind
from cshub.capacity.models import CapacityReport, ReportStatus
from cshub.capacity.selectors import adequacy_matrix
from cshub.catalog.services import catalog_load
from cshub.contracts.models import Contract, ContractStatus, FeeScheduleRow, TrainingCompletion
from cshub.contracts.selectors import contracted_rate, overdue_trainings_for
from cshub.core import clock
from cshub.devtools import seed_network
from cshub.devtools.seed import reset, seed
from cshub.directory.models import ProgramListing
from cshub.directory.selectors import directory_entries
from cshub.exchange.csasf import csasf_due_date, csasf_providers
from cshub.exchange.models import ExchangeFile
from cshub.network.models import Application, InterestForm
from cshub.network.selectors import application_queryset_for, certification_approved, interest_form_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    settings.CSHUB_SFTP_ROOT = tmp_path / "sftp"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "files"},
        },
    }


@pytest.fixture
def world():
    catalog_load()
    return seed(members=600, providers=16, seed=7, referrals=30, authorizations=0)


def focus() -> Organization:
    return Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).order_by("name").first()


def test_the_directory_shows_the_contracted_providers(world):
    entries = directory_entries()
    assert entries
    demo = [e for e in entries if e.organization == focus()]
    assert demo, "the demo provider is in the public directory"
    # every listing of the demo provider is claimed and filled in
    assert all(e.description and e.languages and e.hours_rows and e.phone for e in demo)
    assert {e.organization_id for e in Contract.objects.filter(status=ContractStatus.EXECUTED)} == {
        e.organization.pk for e in entries
    }


def test_the_demo_provider_has_an_executed_contract_with_rates(world):
    contract = Contract.objects.get(organization=focus(), status=ContractStatus.EXECUTED)
    assert contract.start_date < clock.today() and contract.executed_at < clock.now()
    assert contract.plan == Organization.objects.filter(kind=OrganizationKind.PLAN).order_by("name").first()
    fees = list(FeeScheduleRow.objects.filter(contract=contract).select_related("code"))
    assert fees and all(f.rate > 0 and f.unit for f in fees)
    # a rate for every catalog code of every contracted service, found the way claims find it (rule C1)
    contracted = set(contract.rows.values_list("service_id", flat=True))
    assert {f.code.service_id for f in fees} == contracted
    fee = fees[0]
    assert contracted_rate(plan=contract.plan, organization=focus(), code=fee.code, on=clock.today()) == fee
    events = list(contract.events.values_list("kind", flat=True))
    assert events[0] == "created" and events[-1] == "executed"


def test_contracted_providers_are_certified_and_the_others_are_in_every_state(world):
    contracted = Organization.objects.filter(contracts__status=ContractStatus.EXECUTED).distinct()
    assert contracted.count() >= 3
    assert all(certification_approved(org) for org in contracted)
    statuses = Counter(
        Application.objects.filter(kind=Application.Kind.CERTIFICATION).values_list("status", flat=True)
    )
    assert statuses["declined"] == 1 and statuses["gap_closure"] == 1 and statuses["under_review"] >= 1
    gap = Application.objects.get(status="gap_closure")
    assert set(gap.gap_items.values_list("status", flat=True)) == {"answered", "returned"}
    assert Application.objects.filter(kind=Application.Kind.PARTICIPATION, status="under_review").count() == 1
    for org in Organization.objects.filter(kind=OrganizationKind.CS_PROVIDER).exclude(pk__in=contracted):
        assert not certification_approved(org)


def test_training_listings_and_capacity_of_the_demo_provider(world):
    ceo = User.objects.get(email=seed_network.FOCUS_CEO_EMAIL)
    assert ceo.organization == focus()
    assert overdue_trainings_for(user=ceo), "some mandatory training is overdue"
    assert TrainingCompletion.objects.filter(organization=focus(), person=ceo).exists()
    assert (
        ProgramListing.objects.filter(organization=focus()).count()
        == Contract.objects.get(organization=focus()).rows.values("service").distinct().count()
    )
    reports = CapacityReport.objects.filter(provider=focus(), status=ReportStatus.SUBMITTED)
    assert reports.count() >= 3
    assert reports.filter(submitted_late=True).count() == 1


def test_the_plan_sees_the_matrix_and_the_queue(world):
    network = User.objects.get(email=seed_network.NETWORK_EMAIL)
    matrix = adequacy_matrix(user=network)
    assert matrix and all(cell.providers >= 1 for cell in matrix)
    forms = Counter(f.status for f in interest_form_list(user=network))
    assert forms["new"] >= 2 and forms["invited"] >= 1 and forms["closed"] == 1
    assert application_queryset_for(network).filter(status="under_review").exists()
    assert CapacityReport.objects.filter(plan=network.organization).values("provider").distinct().count() >= 2


def test_d1_the_contracted_providers_have_the_csasf_of_the_last_two_scheduled_days(world):
    latest = csasf_due_date(clock.today())
    days = {csasf_due_date(latest - dt.timedelta(days=1)), latest}
    files = ExchangeFile.objects.filter(kind=ExchangeFile.Kind.CSASF)
    assert set(files.values_list("production_date", flat=True)) == days
    contracted = set(csasf_providers(plan=files.first().plan, on=latest))
    assert contracted and {f.organization for f in files if f.production_date == latest} == contracted
    assert all(f.outbox_path and f.status == "delivered" for f in files)
    assert world.network["CSASF files"] == files.count()


def test_reset_removes_it_all(world):
    assert Contract.objects.exists() and InterestForm.objects.exists()
    reset()
    for model in (
        Contract,
        FeeScheduleRow,
        Application,
        InterestForm,
        CapacityReport,
        ProgramListing,
        TrainingCompletion,
        ExchangeFile,
        Organization,
        User,
    ):
        assert not model.objects.exists(), model.__name__


def test_the_command_can_leave_the_network_out():
    catalog_load()
    out = io.StringIO()
    call_command(
        "seed", members=200, providers=8, seed=5, referrals=10, authorizations=0, network=False, stdout=out
    )
    assert "Seeded with seed 5" in out.getvalue() and "provider network" not in out.getvalue()
    assert not Contract.objects.exists() and not InterestForm.objects.exists()
