"""Rules N1-N5 through the services: interest form, invitation, application, review, gap closure, NPR."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from cshub.accounts.models import Organization, User
from cshub.core.errors import DomainError, PermissionDeniedError
from cshub.network import selectors, services
from cshub.network.models import Application, GapItem, InterestForm, NetworkEvent
from cshub.notifications.models import Notification
from tests.network.conftest import full_answers, make_application, pdf

PIF = {
    "organization_name": "Delta Housing Collective",
    "npi": "1234567893",
    "tin": "12-3456789",
    "address_line": "1 River St",
    "city": "Sacramento",
    "zip_code": "95814",
    "contact_name": "Dee Delta",
    "contact_title": "Executive Director",
    "contact_email": "dee@delta.example",
    "contact_phone": "916-555-0100",
}


def _submit_pif(w, **over):
    return services.interest_form_submit(
        plan=w.plan,
        data={**PIF, **over},
        counties=["Sacramento", "Yolo"],
        service_keys=["housing_deposits", "medically_tailored_meals"],
    )


def test_n1_interest_form_saved_confirmed_and_queued(nw, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pif = _submit_pif(nw)
    assert pif.number.startswith("PIF-2026-")
    assert pif.tin == "123456789" and pif.contact_phone == "9165550100"
    assert [m.to for m in mail.outbox] == [["dee@delta.example"]]
    assert Notification.objects.filter(recipient=nw.network, kind="network.interest_new").exists()
    assert list(selectors.interest_form_list(user=nw.network)) == [pif]
    assert not selectors.interest_form_list(user=nw.other_plan_user).exists()
    assert not selectors.interest_form_list(user=nw.alice).exists()


def test_n1_bad_input_lists_every_field_and_saves_nothing(nw):
    with pytest.raises(DomainError) as exc:
        services.interest_form_submit(
            plan=nw.plan,
            data={**PIF, "npi": "1234567890", "contact_email": "nope", "organization_name": ""},
            counties=["Atlantis"],
            service_keys=[],
        )
    fields = {e.field for e in exc.value.errors}
    assert {"npi", "contact_email", "organization_name", "counties", "services"} <= fields
    assert not InterestForm.objects.exists()


def test_n2_invite_creates_organization_user_and_draft(nw, django_capture_on_commit_callbacks):
    pif = _submit_pif(nw)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        app = services.interest_form_invite(actor=nw.network, interest_form=pif, expected_version=1)
    org = Organization.objects.get(name="Delta Housing Collective")
    assert org.kind == "cs_provider" and org.npi == "1234567893"
    user = User.objects.get(email="dee@delta.example")
    assert user.organization == org and user.has_role("provider_ceo") and not user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/password/reset/key/" in mail.outbox[0].body
    assert app.status == Application.Status.DRAFT and app.organization == org
    assert set(app.services.values_list("key", flat=True)) == {"housing_deposits", "medically_tailored_meals"}
    pif.refresh_from_db()
    assert pif.status == "invited" and pif.organization == org and pif.invited_user == user
    assert NetworkEvent.objects.filter(organization=org, kind="invited").exists()
    assert selectors.certification_status(org) == "draft"
    with pytest.raises(DomainError):
        services.interest_form_invite(actor=nw.network, interest_form=pif)


def test_n2_invite_links_existing_organization_and_needs_network_role(nw):
    pif = _submit_pif(nw, npi="")
    with pytest.raises(PermissionDeniedError):
        services.interest_form_invite(actor=nw.plan_users["um_reviewer"], interest_form=pif)
    with pytest.raises(PermissionDeniedError):
        services.interest_form_invite(actor=nw.other_plan_user, interest_form=pif)
    app = services.interest_form_invite(actor=nw.admin, interest_form=pif, organization=nw.provider_b)
    assert app.organization == nw.provider_b
    assert Organization.objects.filter(name="Delta Housing Collective").count() == 0


def test_n3_draft_completeness_submit_and_read_only(nw):
    app = make_application(nw, submit=False)
    assert len(services.application_sections(app)) == 10 + 4
    missing = services.application_missing(app)
    assert {m["section"] for m in missing} >= {"1A", "1J", "housing_deposits/D"}
    with pytest.raises(DomainError) as exc:
        services.application_save_draft(
            actor=nw.alice, application=app, answers={"1B": {"years_serving": "many"}}
        )
    assert exc.value.errors[0].field == "1B.years_serving"
    app = services.application_save_draft(
        actor=nw.alice, application=app, answers={"1B": {"years_serving": "4"}}
    )
    assert app.answers["1B"] == {"years_serving": 4}
    with pytest.raises(DomainError) as exc:
        services.application_submit(actor=nw.alice, application=app)
    assert exc.value.code == "application_incomplete"
    app = services.application_save_draft(actor=nw.alice, application=app, answers=full_answers(app))
    with pytest.raises(DomainError) as exc:
        services.application_submit(actor=nw.alice, application=app)
    assert [e.code for e in exc.value.errors] == ["attachment_required"]
    with pytest.raises(DomainError) as exc:
        services.application_attach(
            actor=nw.alice, application=app, section="1A", upload=SimpleUploadedFile("x.pdf", b"MZ\x90\x00")
        )
    assert exc.value.errors[0].code == "file_type"
    services.application_attach(actor=nw.alice, application=app, section="1A", upload=pdf())
    app = services.application_submit(actor=nw.alice, application=app)
    assert app.status == "under_review" and app.review_round == 1
    with pytest.raises(DomainError) as exc:
        services.application_save_draft(
            actor=nw.alice, application=app, answers={"1B": {"years_serving": "5"}}
        )
    assert exc.value.code == "application_read_only" and "read-only" in exc.value.message
    with pytest.raises(DomainError):
        services.application_attach(actor=nw.alice, application=app, section="1A", upload=pdf())


def test_n3_only_own_leadership_edits(nw):
    app = make_application(nw, submit=False)
    with pytest.raises(PermissionDeniedError):
        services.application_save_draft(actor=nw.charlie, application=app, answers={})
    with pytest.raises(PermissionDeniedError):
        services.application_save_draft(actor=nw.bob, application=app, answers={})


def test_n4_approve_for_contracting(nw, django_capture_on_commit_callbacks):
    app = make_application(nw)
    services.finding_record(actor=nw.network, application=app, section="1A", rating="meets")
    with django_capture_on_commit_callbacks(execute=True):
        services.application_decide(actor=nw.network, application=app, outcome="approve")
    app.refresh_from_db()
    assert app.status == "approved"
    assert selectors.certification_approved(nw.provider_a)
    assert Notification.objects.filter(recipient=nw.alice, kind="network.approve").exists()
    assert any("approved" in m.body for m in mail.outbox if "alice@a.example" in m.to)
    with pytest.raises(DomainError):
        services.application_decide(actor=nw.network, application=app, outcome="decline", reasons="x")


def test_n4_decline_needs_reasons(nw):
    app = make_application(nw)
    with pytest.raises(DomainError) as exc:
        services.application_decide(actor=nw.network, application=app, outcome="decline")
    assert exc.value.errors[0].field == "reasons"
    services.application_decide(actor=nw.network, application=app, outcome="decline", reasons="No licence.")
    assert selectors.certification_status(nw.provider_a) == "declined"
    assert not selectors.certification_approved(nw.provider_a)


def test_n4_gap_closure_loop_back_to_review(nw):
    app = make_application(nw)
    due = (dt.date(2026, 12, 31)).isoformat()
    with pytest.raises(DomainError) as exc:
        services.application_decide(
            actor=nw.network, application=app, outcome="gap_closure", gap_items=[{"text": "x"}]
        )
    assert {e.field for e in exc.value.errors} == {"items.0.owner", "items.0.due_date"}
    services.application_decide(
        actor=nw.network,
        application=app,
        outcome="gap_closure",
        gap_items=[
            {"text": "Written language access policy", "owner": "Alice", "due_date": due, "section": "1H"},
            {"text": "SFTP test file", "owner": "Bob", "due_date": due},
        ],
    )
    app.refresh_from_db()
    assert app.status == "gap_closure"
    one, two = GapItem.objects.filter(application=app).order_by("id")
    with pytest.raises(DomainError):
        services.gap_item_review(actor=nw.network, item=one, accept=True)  # not answered yet
    services.gap_item_respond(
        actor=nw.alice, item=one, response="Policy attached.", uploads=[pdf("policy.pdf")]
    )
    one.refresh_from_db()
    assert one.files.count() == 1
    with pytest.raises(DomainError):
        services.gap_item_review(actor=nw.network, item=one, accept=False)  # returning needs a note
    services.gap_item_review(actor=nw.network, item=one, accept=False, note="Needs a signature.")
    one.refresh_from_db()
    services.gap_item_respond(actor=nw.alice, item=one, response="Signed.")
    services.gap_item_review(actor=nw.network, item=GapItem.objects.get(pk=one.pk), accept=True)
    services.gap_item_respond(actor=nw.alice, item=two, response="Sent.")
    services.gap_item_review(actor=nw.network, item=GapItem.objects.get(pk=two.pk), accept=True)
    app.refresh_from_db()
    assert app.status == "under_review" and app.review_round == 2
    assert NetworkEvent.objects.filter(application=app, kind="re_review").exists()
    services.application_decide(actor=nw.network, application=app, outcome="approve")
    assert selectors.certification_approved(nw.provider_a)


def test_n5_participation_request_in_same_queue(nw):
    cert = make_application(nw, org=nw.provider_b)
    npr = services.participation_request_submit(
        actor=nw.alice,
        plan=nw.plan,
        program="ecm",
        service_keys=[],
        counties=["Yolo"],
        note="Add ECM in Yolo.",
    )
    assert npr.status == "under_review" and npr.number.startswith("NPR-")
    queue = set(selectors.application_list(user=nw.network, filters={"status": "under_review"}))
    assert queue == {cert, npr}
    with pytest.raises(DomainError) as exc:
        services.participation_request_submit(
            actor=nw.alice, plan=nw.plan, program="cs", service_keys=[], counties=[], note=""
        )
    assert {"services", "counties", "note"} <= {e.field for e in exc.value.errors}
    services.application_decide(actor=nw.network, application=npr, outcome="approve")
    assert selectors.certification_approved(nw.provider_a)


def test_n3_privacy_one_provider_never_sees_another(nw):
    app_a = make_application(nw)
    app_b = make_application(nw, org=nw.provider_b)
    assert list(selectors.application_queryset_for(nw.alice)) == [app_a]
    assert list(selectors.application_queryset_for(nw.charlie)) == [app_b]
    assert not selectors.application_queryset_for(nw.bob).exists()
    assert not selectors.application_queryset_for(nw.other_plan_user).exists()
    assert not selectors.application_queryset_for(nw.plan_users["claims_processor"]).exists()
