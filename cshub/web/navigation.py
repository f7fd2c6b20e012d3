"""The main navigation: each entry names who sees it. Apps add entries here as they land."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from cshub.accounts import permissions as account_permissions


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    visible: Callable[[object], bool]


def _members_visible(user: object) -> bool:
    from cshub.members import permissions as member_permissions

    return member_permissions.can_view_members(user)


def _referrals_visible(user: object) -> bool:
    from cshub.referrals import permissions as referral_permissions

    return referral_permissions.can_view_referrals(user)


def _referral_work_visible(user: object) -> bool:
    from cshub.referrals import permissions as referral_permissions

    return referral_permissions.can_work_referrals(user)


def _can_refer(user: object) -> bool:
    from cshub.referrals import permissions as referral_permissions

    return referral_permissions.can_make_referrals(user)


def _authorizations_visible(user: object) -> bool:
    from cshub.authorizations import permissions as authorization_permissions

    return authorization_permissions.can_view_requests(user)


def _authorization_review_visible(user: object) -> bool:
    from cshub.authorizations import permissions as authorization_permissions

    return authorization_permissions.can_review(user)


def _authorization_submit_visible(user: object) -> bool:
    from cshub.authorizations import permissions as authorization_permissions

    return authorization_permissions.can_submit_requests(user)


def _claims_visible(user: object) -> bool:
    from cshub.claims import permissions as claim_permissions

    return claim_permissions.can_view_claims(user)


def _claims_processor(user: object) -> bool:
    from cshub.claims import permissions as claim_permissions

    return claim_permissions.can_process_claims(user)


def _claims_submitter(user: object) -> bool:
    from cshub.claims import permissions as claim_permissions

    return claim_permissions.can_submit_claims(user)


def _listings_visible(user: object) -> bool:
    from cshub.directory import permissions as directory_permissions

    return directory_permissions.can_view_listings(user)


def _contracts_visible(user: object) -> bool:
    from cshub.contracts import permissions as contract_permissions

    return contract_permissions.can_view_contracts(user)


def _own_training_visible(user: object) -> bool:
    from cshub.contracts import permissions as contract_permissions

    return contract_permissions.can_view_own_training(user)


def _network_training_visible(user: object) -> bool:
    from cshub.contracts import permissions as contract_permissions

    return contract_permissions.can_view_network_training(user)


def _capacity_visible(user: object) -> bool:
    from cshub.capacity import permissions as capacity_permissions

    return capacity_permissions.can_view_reports(user)


def _adequacy_visible(user: object) -> bool:
    from cshub.capacity import permissions as capacity_permissions

    return capacity_permissions.is_plan_viewer(user)


def _network_staff(user: object) -> bool:
    from cshub.network import permissions as network_permissions

    return network_permissions.is_network_staff(user)


def _certification_visible(user: object) -> bool:
    from cshub.network import permissions as network_permissions

    return network_permissions.is_applicant(user)


def _sftp_keys_visible(user: object) -> bool:
    from cshub.exchange import permissions as exchange_permissions

    return exchange_permissions.can_manage_keys(user)


def _exchange_files_visible(user: object) -> bool:
    from cshub.exchange import permissions as exchange_permissions

    return exchange_permissions.can_view_shared_data(user)


def _utilization_visible(user: object) -> bool:
    from cshub.reports import permissions as report_permissions

    return report_permissions.can_view_utilization(user)


def _referral_analytics_visible(user: object) -> bool:
    from cshub.reports import permissions as report_permissions

    return report_permissions.can_view_referral_analytics(user)


def _extracts_visible(user: object) -> bool:
    from cshub.reports import permissions as report_permissions

    return report_permissions.can_export_deidentified(user)


NAV: tuple[NavEntry, ...] = (
    NavEntry("Home", "web:home", lambda u: u.is_authenticated),
    NavEntry("Notifications", "notifications:list", lambda u: u.is_authenticated),
    NavEntry("Members", "members:list", _members_visible),
    NavEntry("Referrals", "referrals:list", _referrals_visible),
    NavEntry("Intake", "referrals:intake_queue", _referral_work_visible),
    NavEntry("Outreach", "referrals:worklist", _referral_work_visible),
    NavEntry("Refer a member", "referrals:new", _can_refer),
    NavEntry("Authorizations", "authorizations:list", _authorizations_visible),
    NavEntry("Review queue", "authorizations:queue", _authorization_review_visible),
    NavEntry("Request authorization", "authorizations:new", _authorization_submit_visible),
    # Claims (rules C1-C5): the rest of the claims pages are buttons on the claims list's header.
    NavEntry("Claims", "claims:list", _claims_visible),
    NavEntry("Pended claims", "claims:pended", _claims_processor),
    NavEntry("New invoice", "claims:invoice_new", _claims_submitter),
    NavEntry("Contracts", "contracts:list", _contracts_visible),
    NavEntry("Training", "training:mine", _own_training_visible),
    NavEntry("Network training", "training:network", _network_training_visible),
    NavEntry("Capacity reports", "capacity:list", _capacity_visible),
    NavEntry("Network adequacy", "capacity:adequacy", _adequacy_visible),
    NavEntry("Utilization report", "reports:utilization", _utilization_visible),
    NavEntry("Referral analytics", "reports:referrals", _referral_analytics_visible),
    NavEntry("De-identified extracts", "reports:deidentified", _extracts_visible),
    NavEntry("Interest forms", "network:interest_list", _network_staff),
    NavEntry("Certification review", "network:application_list", _network_staff),
    NavEntry("Certification", "network:application_list", _certification_visible),
    NavEntry("Organizations", "accounts:organization_list", account_permissions.can_view_organizations),
    NavEntry(
        "My organization",
        "accounts:my_organization",
        lambda u: u.is_authenticated and u.organization_id is not None and not u.is_plan_staff,
    ),
    NavEntry("SFTP keys", "exchange:keys", _sftp_keys_visible),
    NavEntry("Exchange files", "exchange:files", _exchange_files_visible),
    NavEntry("CSPRTF", "exchange:csprtf", _exchange_files_visible),
    NavEntry("Program listings", "directory:listings", _listings_visible),
    NavEntry("Community Supports", "catalog:list", lambda u: True),
    NavEntry("Provider directory", "directory:directory", lambda u: True),
    NavEntry(
        "Audit log",
        "web:audit_log",
        lambda u: u.is_authenticated and u.has_role("plan_admin", "reporting_director"),
    ),
)


def nav_for(request: HttpRequest) -> list[dict[str, object]]:
    items = []
    for entry in NAV:
        if not entry.visible(request.user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "active": False})
    # The entry whose address is the longest prefix of this page is the active one: /referrals/intake/ is
    # Intake, not also Referrals.
    matches = [
        i
        for i in items
        if request.path == i["url"] or (i["url"] != "/" and request.path.startswith(i["url"]))
    ]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
