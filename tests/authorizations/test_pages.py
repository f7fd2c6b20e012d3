"""The authorization request pages: the portal form (rules A2-A6), fax entry (A4), the request page and
its steps (A7-A10, G2): who may do what, errors beside their fields with nothing saved, optimistic
locking, and the outsider (provider B) getting 404."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from cshub.accounts.roles import Role
from cshub.authorizations import services
from cshub.authorizations.models import AuthorizationRequest, Letter, ServiceRecord
from cshub.catalog.models import Service
from cshub.core.models import AuditEvent
from tests.authorizations.conftest import START, submit
from tests.factories import CareRelationshipFactory
from tests.members.factories import pdf_upload

pytestmark = pytest.mark.django_db

NAV = "housing_transition_navigation"


def code_value(service_key: str = NAV) -> str:
    code = (
        Service.objects.get(key=service_key).codes.filter(active=True).order_by("hcpcs", "modifier").first()
    )
    return f"{code.hcpcs}|{code.modifier}"


def portal_post(aw, **overrides) -> dict:
    service = Service.objects.get(key=overrides.get("service", NAV))
    items = services.required_documents(service, overrides.get("kind", "initial"))
    data = {
        "member": str(aw.member_a.uuid),
        "service": NAV,
        "code": code_value(overrides.get("service", NAV)),
        "kind": "initial",
        "requesting_npi": aw.npi_a,
        "servicing_npi": aw.npi_a,
        "diagnosis_1": "Z59.01",
        "units": "30",
        "start_date": START.isoformat(),
        "end_date": date(2026, 12, 22).isoformat(),
        "urgency": "",
        "doc_0": pdf_upload("assessment.pdf"),
    }
    for i in range(len(items)):
        data[f"included_{i}"] = "1"
    data.update(overrides)
    return data


# --- 1. New request in the portal ------------------------------------------------------------------------


def test_a3_portal_form_finds_the_member_by_cin_and_by_name_and_birth_date(client, aw):
    client.force_login(aw.bob)
    page = client.get(reverse("authorizations:new"), {"member_id": aw.member_a.cin})
    assert page.status_code == 200
    assert [m.pk for m in page.context["members"]] == [aw.member_a.pk]
    page = client.get(
        reverse("authorizations:new"),
        {"last_name": aw.member_a.last_name, "date_of_birth": aw.member_a.date_of_birth.isoformat()},
    )
    assert [m.pk for m in page.context["members"]] == [aw.member_a.pk]
    # Member B is provider B's: not found (scope), and the search is audited.
    page = client.get(reverse("authorizations:new"), {"member_id": aw.member_b.cin})
    assert page.context["members"] == [] and 'data-testid="no-member"' in page.content.decode()
    assert AuditEvent.objects.filter(actor=aw.bob, object_type="member", action="list").exists()


def test_a3_portal_form_preselects_the_member_and_prefills_the_npis(client, aw):
    client.force_login(aw.bob)
    page = client.get(reverse("authorizations:new"), {"member": aw.member_a.uuid, "service": NAV})
    assert page.status_code == 200
    form = page.context["form"]
    assert form["requesting_npi"].value() == aw.npi_a and form["servicing_npi"].value() == aw.npi_a
    html = page.content.decode()
    assert 'data-testid="checklist-item"' in html  # rule A6: the service's checklist
    assert len(form.fields["code"].choices) > 1  # the service's codes
    # Provider B cannot preselect provider A's member.
    client.force_login(aw.charlie)
    assert client.get(reverse("authorizations:new"), {"member": aw.member_a.uuid}).status_code == 404


def test_a3_service_options_follow_the_service_with_htmx(client, aw):
    client.force_login(aw.bob)
    page = client.get(reverse("authorizations:options"), {"service": "recuperative_care", "kind": "initial"})
    assert page.status_code == 200
    codes = [v for v, _ in page.context["form"].fields["code"].choices if v]
    assert codes == [code_value("recuperative_care")]
    assert "expedited" in page.content.decode()  # recuperative care is urgent by default (rule A8)


def test_a4_portal_submit_creates_the_request_and_shows_it(client, aw):
    client.force_login(aw.bob)
    response = client.post(reverse("authorizations:new"), portal_post(aw))
    request = AuthorizationRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "authorizations:detail", args=[request.uuid]
    )
    assert request.channel == "portal" and request.requesting_organization == aw.provider_a
    assert request.documents.count() == 1
    page = client.get(response.url)
    assert request.number in page.content.decode() and "assessment.pdf" in page.content.decode()


def test_a3_errors_are_shown_beside_their_fields_and_nothing_is_saved(client, aw):
    client.force_login(aw.bob)
    response = client.post(
        reverse("authorizations:new"),
        portal_post(aw, requesting_npi="1234567890", diagnosis_2="XX9", extra_modifiers="G"),
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "not a valid NPI" in " ".join(form.errors["requesting_npi"])
    assert form.errors["diagnosis_2"] and form.errors["extra_modifiers"]
    assert form["units"].value() == "30"  # values kept
    assert 'data-testid="files-dropped"' in response.content.decode()  # files must be chosen again
    assert AuthorizationRequest.objects.count() == 0


def test_a2_member_not_enrolled_is_refused_beside_the_member(client, aw):
    CareRelationshipFactory(member=aw.member_b, organization=aw.provider_a)
    client.force_login(aw.bob)
    response = client.post(reverse("authorizations:new"), portal_post(aw, member=str(aw.member_b.uuid)))
    assert response.status_code == 422
    assert "not enrolled" in response.content.decode()
    assert response.context["form"].errors["member"]
    assert AuthorizationRequest.objects.count() == 0


def test_a6_missing_documents_are_named_in_the_checklist(client, aw):
    client.force_login(aw.bob)
    data = portal_post(aw)
    for key in [k for k in data if k.startswith("included_")]:
        del data[key]
    response = client.post(reverse("authorizations:new"), data)
    assert response.status_code == 422
    assert response.context["doc_errors"] and "Missing:" in response.context["doc_errors"][0]
    assert 'data-testid="documents-error"' in response.content.decode()
    assert AuthorizationRequest.objects.count() == 0


def test_a8_changing_the_urgency_needs_a_reason(client, aw):
    client.force_login(aw.bob)
    response = client.post(reverse("authorizations:new"), portal_post(aw, urgency="routine"))
    if Service.objects.get(key=NAV).urgent_by_default:
        assert response.status_code == 422
        assert response.context["form"].errors["urgency_reason"]
    response = client.post(
        reverse("authorizations:new"), portal_post(aw, urgency="routine", urgency_reason="Stable housing now")
    )
    assert response.status_code == 302


def test_portal_refresh_without_javascript_shows_the_services_codes_without_errors(client, aw):
    client.force_login(aw.bob)
    response = client.post(
        reverse("authorizations:new"),
        {"member": str(aw.member_a.uuid), "service": "recuperative_care", "kind": "initial", "refresh": "1"},
    )
    assert response.status_code == 200 and not response.context["form"].errors
    assert [v for v, _ in response.context["form"].fields["code"].choices if v] == [
        code_value("recuperative_care")
    ]


def test_portal_is_refused_to_plan_staff_and_billing(client, aw):
    for user in (aw.um, aw.plan_users[Role.CLAIMS_PROCESSOR]):
        client.force_login(user)
        assert client.get(reverse("authorizations:new")).status_code == 403


def test_a5_hospital_requests_recuperative_care_with_the_discharge_plan(client, aw):
    CareRelationshipFactory(member=aw.member_a, organization=aw.hospital)
    client.force_login(aw.dana)
    page = client.get(reverse("authorizations:new"), {"member": aw.member_a.uuid})
    assert page.status_code == 200
    form = page.context["form"]
    assert [v for v, _ in form.fields["service"].choices if v] == ["recuperative_care"]
    assert str(aw.provider_a.uuid) in [v for v, _ in form.fields["servicing_organization"].choices]
    service = Service.objects.get(key="recuperative_care")
    items = services.required_documents(service, "initial")
    discharge = next(i for i, t in enumerate(items) if "discharge" in t.lower())
    data = portal_post(
        aw,
        service="recuperative_care",
        requesting_npi=aw.npi_hospital,
        units="30",
        end_date=date(2026, 12, 22).isoformat(),
        servicing_organization=str(aw.provider_a.uuid),
        urgency="",
    )
    del data["doc_0"]
    data[f"doc_{discharge}"] = pdf_upload("discharge.pdf")
    response = client.post(reverse("authorizations:new"), data)  # no attestation
    assert response.status_code == 422
    assert response.context["form"].errors["member_agreement_attested"]
    data[f"doc_{discharge}"] = pdf_upload("discharge.pdf")
    data["member_agreement_attested"] = "on"
    response = client.post(reverse("authorizations:new"), data)
    assert response.status_code == 302, response.context["form"].errors
    request = AuthorizationRequest.objects.get()
    assert request.requesting_organization == aw.hospital and request.servicing_organization == aw.provider_a


# --- 2. Fax entry -----------------------------------------------------------------------------------------


def test_a4_fax_entry_by_plan_um_staff(client, aw):
    client.force_login(aw.um)
    page = client.get(reverse("authorizations:fax"), {"member_id": aw.member_a.cin})
    assert page.status_code == 200 and [m.pk for m in page.context["members"]] == [aw.member_a.pk]
    data = portal_post(aw, requesting_organization=str(aw.provider_a.uuid), received_at="2026-11-23T08:15")
    del data["doc_0"]
    response = client.post(reverse("authorizations:fax"), data)  # no fax file
    assert response.status_code == 422 and response.context["form"].errors["fax_file"]
    assert AuthorizationRequest.objects.count() == 0
    data["fax_file"] = pdf_upload("fax.pdf")
    response = client.post(reverse("authorizations:fax"), data)
    assert response.status_code == 302, response.context["form"].errors
    request = AuthorizationRequest.objects.get()
    assert request.channel == "fax" and request.requesting_organization == aw.provider_a
    assert request.documents.get().kind == "fax"


def test_a4_fax_entry_is_for_the_plan_only(client, aw):
    for user in (aw.bob, aw.alice, aw.plan_users[Role.CLAIMS_PROCESSOR]):
        client.force_login(user)
        assert client.get(reverse("authorizations:fax")).status_code == 403


# --- 5. The request page and its steps ----------------------------------------------------------------------


def test_request_page_by_party_and_outsider_gets_404(client, aw):
    request = submit(aw)
    for user in (aw.bob, aw.alice, aw.um):
        client.force_login(user)
        page = client.get(reverse("authorizations:detail", args=[request.uuid]))
        assert page.status_code == 200
        assert request.number in page.content.decode()
    for user in (aw.charlie, aw.other_plan_user):
        client.force_login(user)
        assert client.get(reverse("authorizations:detail", args=[request.uuid])).status_code == 404
        doc = request.documents.get()
        assert (
            client.get(reverse("authorizations:document", args=[request.uuid, doc.uuid])).status_code == 404
        )
        response = client.post(reverse("authorizations:take", args=[request.uuid]), {"version": 1})
        assert response.status_code == 404
    assert AuditEvent.objects.filter(
        actor=aw.charlie, action="denied", object_type="authorization_request"
    ).exists()


def test_document_download_is_audited(client, aw):
    request = submit(aw)
    doc = request.documents.get()
    client.force_login(aw.um)
    response = client.get(reverse("authorizations:document", args=[request.uuid, doc.uuid]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(actor=aw.um, action="read", detail__purpose="document").exists()


def test_a10_reviewer_takes_then_decides_partial_approval_and_letters_are_listed(client, aw):
    request = submit(aw)
    client.force_login(aw.um)
    page = client.get(reverse("authorizations:detail", args=[request.uuid]))
    assert page.context["can_take"] and page.context["can_work"]
    response = client.post(reverse("authorizations:take", args=[request.uuid]), {"version": 1})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.reviewer == aw.um and request.status == "in_review"
    response = client.post(
        reverse("authorizations:decide", args=[request.uuid]),
        {"version": request.version, "outcome": "partially_approved", "units": "15"},
    )
    assert response.status_code == 422  # reason code, reason and criteria needed
    errors = response.context["decide_form"].errors
    assert errors["reason_code"] and errors["reason"] and errors["criteria"]
    response = client.post(
        reverse("authorizations:decide", args=[request.uuid]),
        {
            "version": request.version,
            "outcome": "partially_approved",
            "units": "15",
            "start_date": START.isoformat(),
            "end_date": date(2026, 12, 22).isoformat(),
            "reason_code": "not_appropriate",
            "reason": "Fifteen units cover the housing search.",
            "criteria": "Housing navigation guide, eligibility criteria.",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="notice"' in html and 'data-testid="determination"' in html
    # The provider sees the determination and its letters (its own and the member's).
    client.force_login(aw.bob)
    page = client.get(reverse("authorizations:detail", args=[request.uuid]))
    assert "Partially approved" in page.content.decode()
    letters = page.context["letters"]
    assert letters and all(
        x.recipient == Letter.Recipient.MEMBER or x.recipient_organization_id == aw.provider_a.pk
        for x in letters
    )
    response = client.get(reverse("authorizations:letter", args=[request.uuid, letters[0].uuid]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_a10_optimistic_locking_shows_the_conflict_message(client, aw):
    request = submit(aw)
    client.force_login(aw.um2)
    assert client.post(reverse("authorizations:take", args=[request.uuid]), {"version": 1}).status_code == 302
    client.force_login(aw.um)
    response = client.post(
        reverse("authorizations:decide", args=[request.uuid]), {"version": 1, "outcome": "approved"}
    )
    assert response.status_code == 409
    assert 'data-testid="conflict"' in response.content.decode()
    assert "changed by someone else" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "in_review" and request.reviewer == aw.um2


def test_a7_pend_then_the_provider_answers_with_a_file(client, aw):
    request = submit(aw)
    client.force_login(aw.um)
    response = client.post(
        reverse("authorizations:pend", args=[request.uuid]), {"version": 1, "question": "", "due_on": ""}
    )
    assert response.status_code == 422 and response.context["pend_form"].errors["question"]
    response = client.post(
        reverse("authorizations:pend", args=[request.uuid]),
        {"version": 1, "question": "Send the housing assessment.", "due_on": "2026-11-25"},
    )
    assert response.status_code == 302
    client.force_login(aw.bob)
    page = client.get(reverse("authorizations:detail", args=[request.uuid]))
    assert page.context["can_answer"] and "Send the housing assessment." in page.content.decode()
    request.refresh_from_db()
    response = client.post(
        reverse("authorizations:answer", args=[request.uuid]),
        {"version": request.version, "answer": "Attached.", "files": [pdf_upload("housing.pdf")]},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "in_review"
    assert request.documents.filter(kind="information", file_name="housing.pdf").exists()


def test_a8_extend_and_change_urgency_need_reasons(client, aw):
    request = submit(aw)
    client.force_login(aw.um)
    response = client.post(
        reverse("authorizations:extend", args=[request.uuid]), {"version": 1, "days": "30", "reason": ""}
    )
    assert response.status_code == 422
    assert response.context["extend_form"].errors["days"] and response.context["extend_form"].errors["reason"]
    response = client.post(
        reverse("authorizations:extend", args=[request.uuid]),
        {"version": 1, "days": "14", "reason": "Waiting for the landlord's records."},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.extension_days == 14
    response = client.post(
        reverse("authorizations:urgency", args=[request.uuid]),
        {"version": request.version, "urgency": "routine" if request.urgency == "expedited" else "expedited"},
    )
    assert response.status_code == 422 and response.context["urgency_form"].errors["reason"]


def test_provider_cannot_take_and_reviewer_cannot_withdraw(client, aw):
    request = submit(aw)
    client.force_login(aw.bob)
    response = client.post(reverse("authorizations:take", args=[request.uuid]), {"version": 1})
    assert response.status_code == 403 and 'data-testid="refused"' in response.content.decode()
    client.force_login(aw.um)
    response = client.post(
        reverse("authorizations:withdraw", args=[request.uuid]), {"version": 1, "reason": "x"}
    )
    assert response.status_code == 403
    client.force_login(aw.bob)
    response = client.post(
        reverse("authorizations:withdraw", args=[request.uuid]), {"version": 1, "reason": "Member moved."}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "withdrawn"


def test_g2_presumptive_request_and_its_retrospective_review(client, aw):
    presumptive = Service.objects.filter(authorization=Service.Authorization.PRESUMPTIVE, active=True).first()
    if presumptive is None:
        pytest.skip("the catalog has no presumptive service")
    from cshub.referrals.models import Enrollment

    Enrollment.objects.get_or_create(
        member=aw.member_a, organization=aw.provider_a, service=presumptive, defaults={"enrolled_on": START}
    )
    request = submit(aw, service_key=presumptive.key, units=1, end_date=START)
    assert request.presumptive
    client.force_login(aw.um)
    page = client.get(reverse("authorizations:detail", args=[request.uuid]))
    assert page.context["can_retro"]
    response = client.post(
        reverse("authorizations:retrospective", args=[request.uuid]),
        {"version": request.version, "upheld": "no", "note": ""},
    )
    assert response.status_code == 422 and response.context["retro_form"].errors
    response = client.post(
        reverse("authorizations:retrospective", args=[request.uuid]),
        {"version": request.version, "upheld": "yes", "note": ""},
    )
    assert response.status_code == 302


# --- 6. Services without authorization ------------------------------------------------------------------


def test_g2_record_a_service_that_needs_no_authorization(client, aw):
    service = Service.objects.filter(authorization=Service.Authorization.NOT_REQUIRED, active=True).first()
    if service is None:
        pytest.skip("the catalog has no service without authorization")
    client.force_login(aw.bob)
    page = client.get(reverse("authorizations:service_records"), {"member": aw.member_a.uuid})
    assert page.status_code == 200 and page.context["form"] is not None
    data = {
        "member": str(aw.member_a.uuid),
        "service": service.key,
        "code": code_value(service.key),
        "service_date": "2026-11-30",
        "units": "1",
        "diagnosis_1": "F10.129",
    }
    response = client.post(reverse("authorizations:service_records"), data)
    assert response.status_code == 422 and response.context["form"].errors["service_date"]  # future
    assert ServiceRecord.objects.count() == 0
    data["service_date"] = "2026-11-22"
    response = client.post(reverse("authorizations:service_records"), data)
    assert response.status_code == 302, response.context["form"].errors
    assert ServiceRecord.objects.get().organization == aw.provider_a
    client.force_login(aw.charlie)
    assert list(client.get(reverse("authorizations:service_records")).context["page_obj"]) == []
