"""Reports over REST (rules D4-D7): a provider's monthly utilization figures, the plan's referral analytics
and the de-identified extract as CSV. Parse, call a selector or service, shape. Roles that never see
reports get 403; a provider or plan outside the caller's scope is 404; bad input is 422."""
# No `from __future__ import annotations` here: ninja resolves the parameter types at import.

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from cshub.core import clock
from cshub.core.errors import DomainError, FieldError
from cshub.reports import permissions, selectors, services, views
from cshub.reports.periods import Month

router = Router(tags=["reports"])


class UtilizationOut(Schema):
    provider: dict[str, Any]
    plan: dict[str, Any]
    month: str
    month_label: str
    first_day: str
    last_day: str
    computed_at: str
    referrals: dict[str, Any]
    outreach: dict[str, Any]
    enrollments: dict[str, Any]
    authorizations: dict[str, Any]
    services: dict[str, Any]
    claims: dict[str, Any]
    timeliness: dict[str, Any]
    trend: dict[str, Any]


class AnalyticsOut(Schema):
    as_of: str
    day: str
    figures: dict[str, Any]


def _invalid(field: str, message: str) -> DomainError:
    return DomainError("The request is not valid.", errors=[FieldError(field, message, "invalid")])


@router.get(
    "/utilization",
    response=UtilizationOut,
    summary="A provider's monthly utilization figures (rules D6, D7)",
    description=(
        "`month` is YYYY-MM (default: last month). The plan's reporting roles name the `provider`; a "
        "provider's leadership reads its own (and names the `plan` when it works with several)."
    ),
)
def utilization(
    request: HttpRequest, provider: UUID | None = None, plan: UUID | None = None, month: str = ""
) -> dict[str, Any]:
    user = request.user
    if not permissions.can_view_utilization(user):
        raise PermissionDenied(views.UTILIZATION_DENIED)
    chosen = Month.parse(month) if month else Month.previous_of_today()
    if chosen is None:
        raise _invalid("month", "Enter a month as YYYY-MM, e.g. 2026-10.")
    if chosen > Month.of(clock.today()):
        raise _invalid("month", "That month has not started yet.")
    scope = selectors.utilization_scope(user=user, provider=provider, plan=plan)
    if scope.provider is None:
        raise DomainError(
            "The request is not valid.",
            errors=[FieldError("provider", "Name the provider.", "required")],
        )
    if scope.plan is None:
        raise _invalid("plan", "No plan has a contract or referrals with this provider.")
    figures = selectors.utilization_for_user(
        user=user, provider=scope.provider, plan=scope.plan, month=chosen
    )
    views.audit_utilization(user=user, figures=figures, purpose="api")
    return figures


@router.get(
    "/referrals",
    response=AnalyticsOut,
    summary="The plan's referral analytics, at most a day old (rule D7)",
)
def referral_analytics(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not permissions.can_view_referral_analytics(user):
        raise PermissionDenied(views.ANALYTICS_DENIED)
    snapshot = services.referral_snapshot_current(plan=selectors.analytics_plan_for(user))
    views.audit_analytics(user=user, snapshot=snapshot, purpose="api")
    return {
        "as_of": snapshot.computed_at.isoformat(),
        "day": snapshot.day.isoformat(),
        "figures": snapshot.figures,
    }


@router.get(
    "/deidentified.csv",
    summary="Member-level rows de-identified by the HIPAA Safe Harbor method (rule D5)",
    description=(
        "`kind` is referrals, authorizations or claim_lines; years are calendar years (at most ten). The "
        "first line is a comment stating the method."
    ),
    response={200: None},
)
def deidentified_csv(
    request: HttpRequest, kind: str = "referrals", from_year: int | None = None, to_year: int | None = None
) -> HttpResponse:
    user = request.user
    if not permissions.can_export_deidentified(user):
        raise PermissionDenied(views.EXTRACT_DENIED)
    this_year = clock.today().year
    from_year = this_year if from_year is None else from_year
    to_year = from_year if to_year is None else to_year
    errors = []
    if kind not in selectors.EXTRACT_KINDS:
        errors.append(FieldError("kind", f"One of: {', '.join(selectors.EXTRACT_KINDS)}.", "choice"))
    if from_year < 2000 or to_year > this_year or to_year < from_year or to_year - from_year > 9:
        errors.append(
            FieldError("to_year", f"Years from 2000 to {this_year}, at most ten, in order.", "range")
        )
    if errors:
        raise DomainError("The request is not valid.", errors=errors)
    extract = selectors.deidentified_extract(user=user, kind=kind, from_year=from_year, to_year=to_year)
    views.audit_extract(user=user, extract=extract, channel="api")
    return views.extract_response(extract)
