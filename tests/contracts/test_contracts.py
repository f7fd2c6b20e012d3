"""Contracts (rules N6, N7, C1): the execute guard with the real network selector, transitions, edit
refusal once executed, amendments, fee schedule validation, contracted_rate and active_contracted_services."""

from __future__ import annotations

from datetime import date

import pytest

from cshub.contracts import selectors, services
from cshub.contracts.models import ContractStatus
from cshub.core.errors import ConflictError, DomainError, PermissionDeniedError
from tests.contracts.conftest import (
    START,
    add_fee,
    approve_certification,
    attest,
    draft,
    execute,
    onboard,
    ready,
)


def _fields(exc) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


# --- the execute guard (rules N4, N6, N7) ----------------------------------------------------------------


def test_n6_n7_execute_refused_names_everything_missing(cw):
    contract = draft(cw, rows=[], fees=False)
    with pytest.raises(DomainError) as exc:
        execute(cw, contract)
    fields = _fields(exc)
    assert set(fields) == {"certification", "attestation", "rows"}
    message = exc.value.message
    assert message.startswith(f"Contract {contract.number} cannot be executed yet:")
    assert "Provider A Housing Services's certification is not approved for contracting" in message
    assert "No training attestation from Provider A Housing Services's leadership is recorded" in message
    assert "Nobody in the organization has completed Community Supports provider onboarding" in message
    assert "names no service in any county" in message
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT and contract.executed_at is None


def test_n7_attestation_missing_is_named_alone_when_certified(cw):
    approve_certification(cw, cw.provider_a)
    contract = draft(cw)
    with pytest.raises(DomainError) as exc:
        execute(cw, contract)
    assert set(_fields(exc)) == {"attestation"}
    assert exc.value.code == "contract_not_ready"


def test_n4_certification_missing_is_named_alone_when_attested(cw):
    attest(cw, cw.alice)
    contract = draft(cw)
    with pytest.raises(DomainError) as exc:
        execute(cw, contract)
    assert set(_fields(exc)) == {"certification"}
    assert "certification is not approved" in exc.value.message


def test_n4_certification_for_another_plan_does_not_count(cw):
    approve_certification(cw, cw.provider_a, plan=cw.plan2)
    attest(cw, cw.alice)
    with pytest.raises(DomainError) as exc:
        execute(cw, draft(cw))
    assert set(_fields(exc)) == {"certification"}


def test_n7_attestation_to_another_plan_does_not_count(cw):
    approve_certification(cw, cw.provider_a)
    attest(cw, cw.alice, plan=cw.plan2)
    with pytest.raises(DomainError) as exc:
        execute(cw, draft(cw))
    assert set(_fields(exc)) == {"attestation"}
    assert "Nobody in the organization" not in exc.value.message  # onboarding is done, only the attestation


def test_n6_every_contracted_service_needs_a_rate(cw):
    ready(cw)
    contract = draft(cw, rows=[(cw.nav, cw.sac), (cw.meals, cw.sac)])
    with pytest.raises(DomainError) as exc:
        execute(cw, contract)
    assert _fields(exc) == {"fees": f"No rate in the fee schedule for {cw.meals.name} (rule N6)."}


def test_n6_execute_when_ready(cw):
    ready(cw)
    contract = execute(cw, draft(cw))
    assert contract.status == ContractStatus.EXECUTED
    assert contract.executed_by == cw.net
    assert [e.kind for e in selectors.contract_events(contract)][-1] == "executed"
    assert cw.alice.notifications.filter(kind="contract_executed").exists()


def test_n6_only_plan_network_staff_execute(cw):
    ready(cw)
    contract = draft(cw)
    for actor in (cw.claims, cw.alice, cw.other_plan_user):
        with pytest.raises(PermissionDeniedError):
            services.contract_execute(actor=actor, contract=contract, expected_version=contract.version)


# --- transitions and edit refusal ------------------------------------------------------------------------


def test_n6_executed_contract_cannot_be_edited(cw):
    ready(cw)
    contract = execute(cw, draft(cw))
    with pytest.raises(DomainError) as exc:
        services.contract_update(
            actor=cw.net,
            contract=contract,
            start_date=START,
            end_date=None,
            expected_version=contract.version,
        )
    assert exc.value.status == 409 and "Amend it" in exc.value.message
    with pytest.raises(DomainError):
        services.contract_rows_set(
            actor=cw.net, contract=contract, pairs=[(cw.meals, cw.sac)], expected_version=contract.version
        )
    with pytest.raises(DomainError) as exc:
        add_fee(cw, contract, start=date(2027, 1, 1))
    assert exc.value.code == "contract_not_editable"
    with pytest.raises(DomainError):
        execute(cw, contract)


def test_n6_stale_version_conflicts(cw):
    contract = draft(cw, fees=False)
    stale = contract.version - 1
    with pytest.raises(ConflictError):
        services.contract_update(
            actor=cw.net, contract=contract, start_date=START, end_date=None, expected_version=stale
        )


def test_n6_terminate_needs_reason_and_date_and_keeps_earlier_rates(cw):
    ready(cw)
    contract = execute(cw, draft(cw))
    with pytest.raises(DomainError) as exc:
        services.contract_terminate(
            actor=cw.net, contract=contract, terminated_on=None, reason="", expected_version=contract.version
        )
    assert set(_fields(exc)) == {"reason", "terminated_on"}
    contract = services.contract_terminate(
        actor=cw.net,
        contract=contract,
        terminated_on=date(2027, 3, 31),
        reason="Provider closed the program.",
        expected_version=contract.version,
    )
    assert contract.status == ContractStatus.TERMINATED
    kw = {"plan": cw.plan, "organization": cw.provider_a, "code": cw.nav_code}
    assert selectors.contracted_rate(**kw, on=date(2027, 3, 31)) is not None
    assert selectors.contracted_rate(**kw, on=date(2027, 4, 1)) is None
    with pytest.raises(DomainError):  # terminated is final
        services.contract_terminate(
            actor=cw.net,
            contract=contract,
            terminated_on=date(2027, 3, 1),
            reason="again",
            expected_version=contract.version,
        )


def test_n6_a_draft_cannot_be_terminated(cw):
    contract = draft(cw)
    with pytest.raises(DomainError) as exc:
        services.contract_terminate(
            actor=cw.net,
            contract=contract,
            terminated_on=START,
            reason="x",
            expected_version=contract.version,
        )
    assert exc.value.status == 409


def test_n6_amendment_supersedes_on_execution(cw):
    ready(cw)
    old = execute(cw, draft(cw))
    amendment = services.contract_amend(
        actor=cw.net, contract=old, start_date=date(2027, 1, 1), expected_version=old.version
    )
    assert amendment.status == ContractStatus.DRAFT and amendment.supersedes == old
    assert amendment.rows.count() == 2 and amendment.fees.get().effective_from == date(2027, 1, 1)
    with pytest.raises(DomainError):  # one open amendment at a time
        services.contract_amend(actor=cw.net, contract=old, start_date=date(2027, 2, 1))
    amendment = services.contract_rows_set(
        actor=cw.net,
        contract=amendment,
        pairs=[(cw.nav, cw.sac), (cw.nav, cw.yolo), (cw.meals, cw.sac)],
        expected_version=amendment.version,
    )
    add_fee(cw, amendment, code=cw.meals_code, rate="18.50")
    amendment = execute(cw, amendment)
    old.refresh_from_db()
    assert old.status == ContractStatus.TERMINATED and old.terminated_on == date(2026, 12, 31)
    assert f"Superseded by amendment {amendment.number}" in old.termination_reason
    kw = {"plan": cw.plan, "organization": cw.provider_a}
    assert selectors.contracted_rate(**kw, code=cw.meals_code, on=date(2026, 12, 31)) is None
    assert selectors.contracted_rate(**kw, code=cw.meals_code, on=date(2027, 1, 1)).contract == amendment
    assert selectors.contracted_rate(**kw, code=cw.nav_code, on=date(2026, 12, 31)).contract == old


# --- fee schedule validation (rules N6, C1) --------------------------------------------------------------


def test_n6_fee_code_must_belong_to_a_contracted_service(cw):
    contract = draft(cw, fees=False)
    with pytest.raises(DomainError) as exc:
        add_fee(cw, contract, code=cw.meals_code)
    assert "which this contract does not cover" in _fields(exc)["code"]
    with pytest.raises(DomainError) as exc:
        services.fee_row_add(
            actor=cw.net,
            contract=contract,
            data=services.FeeInput(code="ZZ999-XX", rate="10", effective_from=START),
            expected_version=contract.version,
        )
    assert "not a catalog HCPCS code" in _fields(exc)["code"]


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("abc", "as an amount"),
        ("10.005", "two decimals"),
        ("", "as an amount"),
    ],
)
def test_n6_fee_rate_must_be_positive_money(cw, rate, message):
    contract = draft(cw, fees=False)
    with pytest.raises(DomainError) as exc:
        add_fee(cw, contract, rate=rate)
    assert message in _fields(exc)["rate"]
    assert contract.fees.count() == 0


def test_n6_fee_dates_of_one_code_may_not_overlap(cw):
    contract = draft(cw, fees=False)
    add_fee(cw, contract, start=START, end=date(2026, 12, 31))
    add_fee(cw, contract, rate="130.00", start=date(2027, 1, 1))
    with pytest.raises(DomainError) as exc:
        add_fee(cw, contract, rate="140.00", start=date(2027, 6, 1))
    assert "may not overlap" in _fields(exc)["effective_from"]
    with pytest.raises(DomainError) as exc:
        add_fee(cw, contract, rate="140.00", start=date(2026, 12, 1), end=date(2026, 12, 1))
    assert "may not overlap" in _fields(exc)["effective_from"]
    with pytest.raises(DomainError) as exc:
        add_fee(cw, contract, start=date(2026, 11, 1))
    assert "cannot start before" in _fields(exc)["effective_from"]


def test_n6_service_with_rates_cannot_be_dropped(cw):
    contract = draft(cw)
    with pytest.raises(DomainError) as exc:
        services.contract_rows_set(
            actor=cw.net, contract=contract, pairs=[(cw.meals, cw.sac)], expected_version=contract.version
        )
    assert "remove the rate before the service" in _fields(exc)["services"]


def test_n6_fee_unit_defaults_to_catalog_billing_unit(cw):
    contract = draft(cw, fees=False)
    fee = add_fee(cw, contract)
    assert fee.unit == (cw.nav_code.billing_unit or fee.unit)
    fee2 = add_fee(cw, draft(cw, org=cw.provider_b, fees=False), unit="per month")
    assert fee2.unit == "per month"


# --- contracted_rate and active_contracted_services ------------------------------------------------------


def test_c1_contracted_rate_by_date(cw):
    ready(cw)
    contract = draft(cw, fees=False, end=date(2027, 12, 31))
    add_fee(cw, contract, rate="100.00", start=START, end=date(2026, 12, 31))
    add_fee(cw, contract, rate="110.00", start=date(2027, 1, 1))
    kw = {"plan": cw.plan, "organization": cw.provider_a, "code": cw.nav_code}
    assert selectors.contracted_rate(**kw, on=START) is None  # a draft pays nothing
    execute(cw, contract)
    assert selectors.contracted_rate(**kw, on=date(2026, 11, 22)) is None  # before the start
    assert str(selectors.contracted_rate(**kw, on=START).rate) == "100.00"
    assert str(selectors.contracted_rate(**kw, on=date(2026, 12, 31)).rate) == "100.00"
    assert str(selectors.contracted_rate(**kw, on=date(2027, 1, 1)).rate) == "110.00"
    assert selectors.contracted_rate(**kw, on=date(2028, 1, 1)) is None  # after the end
    by_text = selectors.contracted_rate(
        plan=cw.plan, organization=cw.provider_a, code=cw.nav_code.code.lower(), on=START
    )
    assert by_text is not None and by_text.code == cw.nav_code
    assert (
        selectors.contracted_rate(plan=cw.plan2, organization=cw.provider_a, code=cw.nav_code, on=START)
        is None
    )
    assert (
        selectors.contracted_rate(plan=cw.plan, organization=cw.provider_b, code=cw.nav_code, on=START)
        is None
    )


def test_n8_active_contracted_services(cw):
    ready(cw)
    contract = execute(cw, draft(cw))
    draft(cw, org=cw.provider_b)  # drafts are not in the directory
    rows = list(selectors.active_contracted_services(on=START))
    assert {(r.organization, r.service, r.county) for r in rows} == {
        (cw.provider_a, cw.nav, cw.sac),
        (cw.provider_a, cw.nav, cw.yolo),
    }
    assert selectors.active_contracted_services(on=date(2026, 11, 22)).count() == 0
    assert selectors.active_contracted_services(on=START, plan=cw.plan2).count() == 0
    services.contract_terminate(
        actor=cw.net,
        contract=contract,
        terminated_on=START,
        reason="closed",
        expected_version=contract.version,
    )
    assert selectors.active_contracted_services(on=START).count() == 2
    assert selectors.active_contracted_services(on=date(2026, 11, 24)).count() == 0


def test_n6_create_refuses_bad_input(cw):
    with pytest.raises(DomainError) as exc:
        services.contract_create(
            actor=cw.net, organization=cw.plan2, start_date=START, end_date=date(2026, 1, 1)
        )
    assert set(_fields(exc)) == {"organization", "end_date"}
    with pytest.raises(PermissionDeniedError):
        services.contract_create(actor=cw.alice, organization=cw.provider_a, start_date=START)


def test_n7_onboarding_helper(cw):
    assert [c.key for c in selectors.onboarding_missing(cw.provider_a)] == ["cs_onboarding"]
    onboard(cw, cw.bob)
    assert selectors.onboarding_missing(cw.provider_a) == []
