"""Rules N1-N5 through the pages: the public form, the queue, the application and its review."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cshub.network.models import Application, InterestForm
from tests.network.conftest import full_answers, make_application, pdf

FORM = {
    "organization_name": "Delta Housing Collective",
    "npi": "1234567893",
    "address_line": "1 River St",
    "city": "Sacramento",
    "zip_code": "95814",
    "contact_name": "Dee Delta",
    "contact_email": "dee@delta.example",
    "contact_phone": "9165550100",
    "counties": ["Sacramento"],
    "services": ["housing_deposits"],
}


def _post(client, nw, **over):
    return client.post(reverse("network:interest_form"), {"plan": nw.plan.pk, **FORM, **over})


def test_n1_public_form_saves_and_confirms(client, nw):
    assert client.get(reverse("network:interest_form")).status_code == 200
    response = _post(client, nw)
    assert response.status_code == 302
    done = client.get(response["Location"])
    assert InterestForm.objects.get().number in done.content.decode()


def test_n1_bad_input_shows_field_errors_and_saves_nothing(client, nw):
    response = _post(client, nw, npi="1234567890", contact_email="x")
    assert response.status_code == 422
    assert "not a valid NPI" in response.content.decode()
    assert not InterestForm.objects.exists()


def test_n1_honeypot_succeeds_without_saving(client, nw):
    response = _post(client, nw, nickname="bot")
    assert response.status_code == 302
    assert not InterestForm.objects.exists()


def test_n1_rate_limit_answers_429(client, nw, settings):
    settings.CSHUB_INTEREST_FORM_RATE_LIMIT = "2/h"
    assert _post(client, nw).status_code == 302
    assert _post(client, nw, npi="").status_code == 302
    response = _post(client, nw, npi="")
    assert response.status_code == 429 and response["Retry-After"]
    assert InterestForm.objects.count() == 2


def test_n1_queue_filters_csv_and_refuses_others(client, nw):
    _post(client, nw)
    client.force_login(nw.network)
    page = client.get(reverse("network:interest_list"), {"q": "Delta"})
    assert "Delta Housing Collective" in page.content.decode()
    assert (
        "No interest form"
        in client.get(reverse("network:interest_list"), {"status": "invited"}).content.decode()
    )
    csv = client.get(reverse("network:interest_list"), {"format": "csv"})
    assert b"Delta Housing Collective" in b"".join(csv.streaming_content)
    client.force_login(nw.alice)
    assert client.get(reverse("network:interest_list")).status_code == 403


def test_n2_invite_from_the_page(client, nw):
    _post(client, nw)
    pif = InterestForm.objects.get()
    client.force_login(nw.network)
    response = client.post(
        reverse("network:interest_detail", args=[pif.uuid]), {"version": 1, "action": "invite"}
    )
    assert response.status_code == 302
    assert Application.objects.get().organization.name == "Delta Housing Collective"


def test_n3_draft_save_submit_read_only_pages(client, nw):
    app = make_application(nw, submit=False)
    client.force_login(nw.alice)
    url = reverse("network:application_detail", args=[app.uuid])
    page = client.get(url)
    assert "1J: Data Sharing to Support Community Supports" in page.content.decode()
    answers = {f"{s}.{k}": v for s, qs in full_answers(app).items() for k, v in qs.items()}
    save = reverse("network:application_save", args=[app.uuid])
    response = client.post(save, {**answers, "version": app.version, "action": "submit"})
    assert response.status_code == 422  # the 1A documents are missing
    assert "attach" in response.content.decode()
    app.refresh_from_db()
    assert app.status == "draft" and app.answers["1A"]["legal_name"]
    client.post(reverse("network:attachment_add", args=[app.uuid]), {"section": "1A", "file": pdf()})
    att = app.attachments.get()
    download = client.get(reverse("network:attachment_download", args=[app.uuid, att.uuid]))
    assert download.status_code == 200
    app.refresh_from_db()
    response = client.post(save, {"version": app.version, "action": "submit"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == "under_review"
    response = client.post(save, {"1B.years_serving": "9", "version": app.version})
    assert response.status_code == 409 and "read-only" in response.content.decode()


@pytest.mark.parametrize("who", ["charlie", "bob", "other_plan_user"])
def test_n3_outsiders_get_404(client, nw, who):
    app = make_application(nw)
    client.force_login(getattr(nw, who))
    assert client.get(reverse("network:application_detail", args=[app.uuid])).status_code in (403, 404)
    att = app.attachments.first()
    assert client.get(reverse("network:attachment_download", args=[app.uuid, att.uuid])).status_code in (
        403,
        404,
    )


def test_n4_review_from_the_page_and_home_card(client, nw):
    app = make_application(nw)
    client.force_login(nw.network)
    queue = client.get(reverse("network:application_list"))
    assert app.number in queue.content.decode()
    client.post(
        reverse("network:finding_add", args=[app.uuid]),
        {"section": "1H", "rating": "gap", "note": "No policy"},
    )
    response = client.post(
        reverse("network:decide", args=[app.uuid]),
        {
            "outcome": "gap_closure",
            "items": "Write the policy | Alice | 2026-12-31 | 1H",
            "version": app.version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    assert app.status == "gap_closure"
    client.force_login(nw.alice)
    assert (
        "Write the policy"
        in client.get(reverse("network:application_detail", args=[app.uuid])).content.decode()
    )


def test_n4_home_card_and_nav(client, nw):
    """Rule N4: the organization sees its application's state on its home page."""
    make_application(nw)
    client.force_login(nw.alice)
    home = client.get("/").content.decode()
    assert 'data-testid="network-card"' in home and "Submitted, under review" in home
    assert reverse("network:application_list") in home
    client.force_login(nw.charlie)
    assert 'data-testid="network-card"' not in client.get("/").content.decode()
    client.force_login(nw.network)
    assert reverse("network:interest_list") in client.get("/").content.decode()
