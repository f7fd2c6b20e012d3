"""The home page shows each role its work; the audit log page shows who did what."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cshub.accounts import permissions as account_permissions
from cshub.accounts import selectors as account_selectors
from cshub.accounts.roles import Role
from cshub.authorizations import views as authorization_views
from cshub.claims import views as claim_views
from cshub.core.models import AuditEvent
from cshub.core.pagination import csv_response, list_context
from cshub.members import permissions as member_permissions
from cshub.members import selectors as member_selectors
from cshub.network import selectors as network_selectors
from cshub.referrals import views as referral_views

# What each role's home page leads with: (heading, sentence). The panels below are shown by permission.
ROLE_FOCUS: dict[str, tuple[str, str]] = {
    Role.PLAN_ADMIN: ("Administration", "Organizations, users, roster imports and the audit log."),
    Role.NETWORK: (
        "Network & contracting",
        "Provider organizations, the counties they serve and their contacts.",
    ),
    Role.UM_REVIEWER: (
        "Utilization management",
        "Member eligibility and the authorization guides you review against.",
    ),
    Role.CLAIMS_PROCESSOR: (
        "Claims",
        "Member eligibility on the date of service and the HCPCS codes of each service.",
    ),
    Role.PROVIDER_RELATIONS: ("Provider relations", "The providers you support and their points of contact."),
    Role.REPORTING_DIRECTOR: (
        "Reporting & analytics",
        "Member data across the plan's network: search, counts and exports (rule D4).",
    ),
    Role.REPORTING_SUPERVISOR: (
        "Reporting & data analysis",
        "Member data across the plan's network: search, counts and exports (rule D4).",
    ),
    Role.PROVIDER_CEO: ("Your organization", "Your people, your members and your organization's profile."),
    Role.PROVIDER_COO: ("Operations", "Your people, your members and your organization's profile."),
    Role.CS_PROGRAM_DIRECTOR: ("Community Supports program", "Your members and the services you provide."),
    Role.CS_PROGRAM_MANAGER: ("Community Supports program", "Your members and the services you provide."),
    Role.CARE_COORDINATOR: ("Your caseload", "Members on your organization's care team."),
    Role.PROVIDER_BILLING: (
        "Billing",
        "Members and the HCPCS codes and modifiers to bill each service with.",
    ),
    Role.ECM_STAFF: ("ECM", "Members assigned to you for Enhanced Care Management."),
    Role.DISCHARGE_PLANNER: (
        "Discharge planning",
        "Members you referred and the Community Supports you can refer to.",
    ),
    Role.REFERRER: ("Referrals", "Members you referred and the Community Supports you can refer to."),
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = [r for r in Role if r.value in user.role_set]
    focus = [(r.label, *ROLE_FOCUS[r.value]) for r in roles]
    context: dict[str, object] = {"focus": focus, "roles": roles}
    if member_permissions.can_view_members(user):
        members = member_selectors.member_queryset_for(user)
        context["member_count"] = members.count()
        context["members_by_county"] = (
            list(members.values("county__name").annotate(n=Count("id")).order_by("-n")[:8])
            if member_permissions.can_export_members(user)
            else None
        )
    if account_permissions.can_view_organizations(user):
        orgs = account_selectors.organization_queryset_for(user)
        context["org_counts"] = list(orgs.values("kind").annotate(n=Count("id")).order_by("kind"))
    context["can_manage_users"] = user.organization is not None and account_permissions.can_manage_users_of(
        user, user.organization
    )
    context["can_import_roster"] = member_permissions.can_import_roster(user)
    context["referral_counts"] = referral_views.home_counts(user)
    context["authorization_counts"] = authorization_views.home_counts(user)
    context["network_card"] = network_selectors.home_card(user=user)
    context["claims_card"] = claim_views.home_counts(user)
    context["can_view_audit"] = user.has_role(Role.PLAN_ADMIN, Role.REPORTING_DIRECTOR)
    return render(request, "web/home.html", context)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The plan administrator sees every event; a reporting director sees the plan's own organization's."""
    user = request.user
    if not user.has_role(Role.PLAN_ADMIN, Role.REPORTING_DIRECTOR):
        raise PermissionDenied
    qs = AuditEvent.objects.select_related("organization")
    if not user.has_role(Role.PLAN_ADMIN):
        qs = qs.filter(organization_id=user.organization_id)
    filters = {k: request.GET.get(k, "").strip() for k in ("actor", "action", "object_type", "member")}
    if filters["actor"]:
        qs = qs.filter(actor_label__icontains=filters["actor"])
    if filters["action"]:
        qs = qs.filter(action=filters["action"])
    if filters["object_type"]:
        qs = qs.filter(object_type=filters["object_type"])
    if filters["member"]:
        # JSON containment is not portable to SQLite; the member's public id is matched as text.
        qs = qs.filter(member_ids__icontains=filters["member"])
    if request.GET.get("format") == "csv":
        return csv_response(
            "audit_log.csv",
            [
                "at",
                "actor",
                "organization",
                "action",
                "object_type",
                "object_id",
                "members",
                "channel",
                "ip",
                "path",
            ],
            qs.iterator(chunk_size=2000),
            lambda e: [
                e.at.isoformat(),
                e.actor_label,
                e.organization.name if e.organization else "",
                e.action,
                e.object_type,
                e.object_id,
                " ".join(e.member_ids),
                e.channel,
                e.ip_address,
                e.request_path,
            ],
        )
    context = {
        **list_context(request, qs, per_page=50),
        "filters": filters,
        "actions": AuditEvent.Action.choices,
    }
    return render(request, "web/audit_log.html", context)
