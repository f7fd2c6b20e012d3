"""Contract and training pages (issue 4 items 5, 6, 9; rules N6, N7).

Views parse, call a selector or a service, render. Contracts are read through `selectors` (scoped; out of
scope is 404). Each change posts to its own URL with the `version` it was read at (optimistic locking); a
refused change re-renders the contract page with the service's message and field errors (422, 403, or 409).
With htmx the forms swap the page in place; without JavaScript they post and redirect as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cshub.accounts.models import User
from cshub.contracts import permissions, selectors, services
from cshub.contracts.forms import (
    AmendForm,
    AttestationForm,
    CompletionForm,
    ContractFilterForm,
    ContractForm,
    DatesForm,
    FeeForm,
    RowsForm,
    TerminateForm,
    VersionForm,
)
from cshub.contracts.models import Contract
from cshub.contracts.trainings import training_catalog
from cshub.core.errors import DomainError
from cshub.core.forms import apply_domain_errors
from cshub.core.pagination import csv_response, list_context

# --- contracts -------------------------------------------------------------------------------------------


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_contracts(request.user):
        raise PermissionDenied
    form = ContractFilterForm(request.GET or None)
    filters = selectors.ContractFilters()
    if form.is_valid():
        d = form.cleaned_data
        filters = selectors.ContractFilters(
            status=d["status"],
            provider=d["provider"].uuid if d["provider"] else None,
            service=d["service"].key if d["service"] else "",
            county=d["county"].name if d["county"] else "",
            q=d["q"],
        )
    contracts = selectors.contract_list(user=request.user, filters=filters)
    if request.GET.get("format") == "csv":
        return csv_response(
            "contracts.csv",
            [
                "number",
                "status",
                "plan",
                "provider",
                "start_date",
                "end_date",
                "terminated_on",
                "services_counties",
            ],
            contracts.iterator(chunk_size=2000),
            lambda c: [
                c.number,
                c.status,
                c.plan.name,
                c.organization.name,
                c.start_date,
                c.end_date,
                c.terminated_on,
                "; ".join(f"{r.service.name} / {r.county.name}" for r in c.rows.all()),
            ],
        )
    return render(
        request,
        "contracts/list.html",
        {
            "form": form,
            "can_manage": permissions.can_manage_contracts(request.user),
            **list_context(request, contracts),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_new(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_contracts(request.user):
        raise PermissionDenied
    form = ContractForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            contract = services.contract_create(
                actor=request.user,
                organization=d["organization"],
                start_date=d["start_date"],
                end_date=d["end_date"],
                notes=d["notes"],
            )
        except DomainError as exc:
            apply_domain_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, f"Draft contract {contract.number} created.")
            return redirect("contracts:detail", uuid=contract.uuid)
    elif request.method == "POST":
        status = 422
    return render(request, "contracts/new.html", {"form": form}, status=status)


def _codes(contract: Contract) -> list[tuple[str, str]]:
    return [
        (c.code, f"{c.code} · {c.service.name} ({c.billing_unit})")
        for c in selectors.codes_for_contract(contract)
    ]


def _detail(
    request: HttpRequest, contract: Contract, *, error: DomainError | None = None, forms: dict | None = None
) -> HttpResponse:
    user = request.user
    manage = permissions.can_manage_contracts(user)
    v = {"version": contract.version}
    rows = list(selectors.contract_rows(contract))
    ctx: dict[str, Any] = {
        "contract": contract,
        "rows": rows,
        "fees": list(selectors.contract_fees(contract)),
        "events": list(selectors.contract_events(contract)),
        "amendments": list(contract.amendments.order_by("-start_date")),
        "can_manage": manage,
        "error": error,
        "problems": services.execute_problems(contract) if manage and contract.is_draft else [],
    }
    if manage and contract.is_draft:
        ctx["dates_form"] = DatesForm(
            initial={
                **v,
                "start_date": contract.start_date,
                "end_date": contract.end_date,
                "notes": contract.notes,
            }
        )
        ctx["rows_form"] = RowsForm(
            initial={
                **v,
                "services": sorted({r.service_id for r in rows}),
                "counties": sorted({r.county_id for r in rows}),
            }
        )
        ctx["fee_form"] = FeeForm(
            initial={**v, "effective_from": contract.start_date}, codes=_codes(contract)
        )
    if manage and contract.status == "executed":
        ctx["terminate_form"] = TerminateForm(initial=v)
        ctx["amend_form"] = AmendForm(initial=v)
    ctx.update(forms or {})
    return render(request, "contracts/detail.html", ctx, status=error.status if error else 200)


@login_required
@require_GET
def contract_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    return _detail(request, selectors.contract_get_for_user(user=request.user, uuid=uuid))


def _step(
    request: HttpRequest,
    uuid: str,
    form_class: type,
    form_key: str,
    call: Callable[[Contract, dict], Contract | object],
    done: str,
    **form_kwargs: Any,
) -> HttpResponse:
    """One change: parse the form, call the service, redirect; or re-render the page with the refusal."""
    contract = selectors.contract_get_for_user(user=request.user, uuid=uuid)
    if not permissions.can_manage_contracts(request.user):
        raise PermissionDenied
    form = form_class(request.POST, request.FILES, **form_kwargs)
    if not form.is_valid():
        return _detail(
            request,
            contract,
            error=DomainError("Correct the fields marked below."),
            forms={form_key: form},
        )
    try:
        result = call(contract, form.cleaned_data)
    except DomainError as exc:
        apply_domain_errors(form, exc)
        contract.refresh_from_db()
        return _detail(request, contract, error=exc, forms={form_key: form})
    messages.success(request, done)
    target = result if isinstance(result, Contract) else contract
    return redirect("contracts:detail", uuid=target.uuid)


@login_required
@require_POST
def contract_dates(request: HttpRequest, uuid: str) -> HttpResponse:
    return _step(
        request,
        uuid,
        DatesForm,
        "dates_form",
        lambda c, d: services.contract_update(
            actor=request.user,
            contract=c,
            start_date=d["start_date"],
            end_date=d["end_date"],
            notes=d["notes"],
            expected_version=d["version"],
        ),
        "Dates saved.",
    )


@login_required
@require_POST
def contract_rows(request: HttpRequest, uuid: str) -> HttpResponse:
    return _step(
        request,
        uuid,
        RowsForm,
        "rows_form",
        lambda c, d: services.contract_rows_set(
            actor=request.user,
            contract=c,
            pairs=[(s, county) for s in d["services"] for county in d["counties"]],
            expected_version=d["version"],
        ),
        "Services and counties saved.",
    )


@login_required
@require_POST
def contract_fee_add(request: HttpRequest, uuid: str) -> HttpResponse:
    contract = selectors.contract_get_for_user(user=request.user, uuid=uuid)
    return _step(
        request,
        uuid,
        FeeForm,
        "fee_form",
        lambda c, d: services.fee_row_add(
            actor=request.user,
            contract=c,
            data=services.FeeInput(
                code=d["code"],
                rate=d["rate"],
                effective_from=d["effective_from"],
                effective_to=d["effective_to"],
                unit=d["unit"],
            ),
            expected_version=d["version"],
        ),
        "Rate added.",
        codes=_codes(contract),
    )


@login_required
@require_POST
def contract_fee_remove(request: HttpRequest, uuid: str, fee: str) -> HttpResponse:
    return _step(
        request,
        uuid,
        VersionForm,
        "version_form",
        lambda c, d: services.fee_row_remove(
            actor=request.user, contract=c, fee_uuid=fee, expected_version=d["version"]
        ),
        "Rate removed.",
    )


@login_required
@require_POST
def contract_execute(request: HttpRequest, uuid: str) -> HttpResponse:
    return _step(
        request,
        uuid,
        VersionForm,
        "version_form",
        lambda c, d: services.contract_execute(actor=request.user, contract=c, expected_version=d["version"]),
        "Contract executed.",
    )


@login_required
@require_POST
def contract_terminate(request: HttpRequest, uuid: str) -> HttpResponse:
    return _step(
        request,
        uuid,
        TerminateForm,
        "terminate_form",
        lambda c, d: services.contract_terminate(
            actor=request.user,
            contract=c,
            terminated_on=d["terminated_on"],
            reason=d["reason"],
            expected_version=d["version"],
        ),
        "Contract terminated.",
    )


@login_required
@require_POST
def contract_amend(request: HttpRequest, uuid: str) -> HttpResponse:
    return _step(
        request,
        uuid,
        AmendForm,
        "amend_form",
        lambda c, d: services.contract_amend(
            actor=request.user, contract=c, start_date=d["start_date"], expected_version=d["version"]
        ),
        "Amendment drafted: change it, then execute it to supersede the contract.",
    )


# --- training (rule N7) ----------------------------------------------------------------------------------


@require_GET
def training_courses(request: HttpRequest) -> HttpResponse:
    """The training catalog: public, like the service catalog."""
    return render(request, "contracts/training_catalog.html", {"catalog": training_catalog()})


def _people(user: User) -> Any:
    qs = User.objects.filter(organization_id=user.organization_id, is_active=True, is_service_account=False)
    return qs if user.has_role(*permissions.ATTESTER_ROLES) else qs.filter(pk=user.pk)


@login_required
@require_http_methods(["GET", "POST"])
def my_training(request: HttpRequest) -> HttpResponse:
    """The provider's page: completions, standing on mandatory trainings, attestations."""
    user = request.user
    if not permissions.can_view_own_training(user):
        raise PermissionDenied
    completion_form = CompletionForm(initial={"person": user.uuid}, people=_people(user))
    attestation_form = AttestationForm(
        initial={"courses": [c.key for c in training_catalog().required_for_contracting]}
    )
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "attest":
                attestation_form = AttestationForm(request.POST)
                if not attestation_form.is_valid():
                    raise DomainError("Correct the fields marked below.")
                d = attestation_form.cleaned_data
                services.attestation_record(
                    actor=user, plan=d["plan"], course_keys=d["courses"], statement=d["statement"]
                )
                messages.success(request, "Attestation recorded.")
            else:
                completion_form = CompletionForm(request.POST, request.FILES, people=_people(user))
                if not completion_form.is_valid():
                    raise DomainError("Correct the fields marked below.")
                d = completion_form.cleaned_data
                services.completion_record(
                    actor=user,
                    person=d["person"],
                    course_key=d["course"],
                    completed_on=d["completed_on"],
                    evidence=d["evidence"],
                    note=d["note"],
                )
                messages.success(request, "Training recorded.")
            return redirect("training:mine")
        except DomainError as exc:
            form = attestation_form if request.POST.get("action") == "attest" else completion_form
            apply_domain_errors(form, exc)
            status = exc.status
    completions = selectors.completion_list(user=user)
    return render(
        request,
        "contracts/my_training.html",
        {
            "catalog": training_catalog(),
            "status_rows": selectors.training_status_for(user=user),
            "missing": selectors.onboarding_missing(user.organization),
            "attestations": selectors.attestation_list(user=user),
            "completion_form": completion_form,
            "attestation_form": attestation_form,
            "can_attest": permissions.can_attest(user),
            **list_context(request, completions),
        },
        status=status,
    )


@login_required
@require_GET
def evidence_download(request: HttpRequest, uuid: str) -> HttpResponse:
    completion = selectors.completion_get_for_user(user=request.user, uuid=uuid)
    if not completion.evidence:
        raise Http404("No evidence file")
    return FileResponse(completion.evidence.open("rb"), as_attachment=True, filename=completion.evidence_name)


@login_required
@require_GET
def network_training(request: HttpRequest) -> HttpResponse:
    """The plan's view across providers: overdue mandatory trainings and attestations (rule N7)."""
    if not permissions.can_view_network_training(request.user):
        raise PermissionDenied
    overdue = selectors.overdue_trainings_for(user=request.user)
    if request.GET.get("format") == "csv":
        return csv_response(
            "overdue_trainings.csv",
            ["provider", "course", "last_completed_on", "due_on", "days_overdue"],
            overdue,
            lambda r: [r.organization.name, r.course.title, r.last_completed_on, r.due_on, r.days_overdue],
        )
    return render(
        request,
        "contracts/network_training.html",
        {
            "overdue": overdue,
            "attestations": selectors.attestation_list(user=request.user)[:50],
        },
    )
