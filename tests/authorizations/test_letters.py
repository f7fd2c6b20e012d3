"""Determination letters (rule A9) and extension letters (rule A8): every template rendered to a real PDF
through cshub.core.letters and read back with pypdf; the notice-of-action text loader, its language
fallback and its errors on a broken file.

The models are built in memory and never saved: a letter reads only what the service layer hands it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from cshub.accounts.models import Organization
from cshub.authorizations import notice_text
from cshub.authorizations.models import (
    Authorization,
    AuthorizationRequest,
    Determination,
    RequestKind,
)
from cshub.authorizations.notice_text import (
    NoticeFileError,
    check_notice_file,
    extension_notice,
    notice_of_action,
    read_notice_file,
)
from cshub.catalog.models import Service, ServiceCode
from cshub.core.letters import render_letter_html, render_letter_pdf
from cshub.members.models import Member

LETTERS = "authorizations/letters"
LETTER_DATE = dt.date(2026, 11, 23)
DECIDED_AT = dt.datetime(2026, 11, 20, 19, 30, tzinfo=dt.UTC)
DUE_AT = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # Monday, December 7, 2026, 5 pm Pacific
DIAGNOSES = ["Z59.01", "F20.9"]


# --------------------------------------------------------------------------------------------------------
# In-memory objects


@dataclasses.dataclass
class Case:
    plan: Organization
    provider: Organization
    referrer: Organization
    member: Member
    request: AuthorizationRequest


def make_case(*, language: str = "en", kind: str = RequestKind.INITIAL, concurrent: bool = False) -> Case:
    plan = Organization(
        kind="plan",
        name="Golden State Health Plan",
        address_line="100 Capitol Mall",
        city="Sacramento",
        zip_code="95814",
        phone="9165550100",
    )
    provider = Organization(kind="cs_provider", name="Harbor Housing Services", phone="5595550123")
    referrer = Organization(kind="hospital", name="Valley Medical Center", address_line="1 Clinic Way")
    member = Member(
        cin="91000001A",
        first_name="Ana",
        last_name="Alvarez",
        date_of_birth=dt.date(1980, 4, 5),
        preferred_language=language,
        address_line="12 Elm Street",
        city="Fresno",
        zip_code="93721",
    )
    service = Service(key="housing_transition_navigation", name="Housing Transition Navigation Services")
    code = ServiceCode(service=service, hcpcs="H0043", modifier="U6", billing_unit="per diem")
    request = AuthorizationRequest(
        number="A-2026-000123",
        plan=plan,
        member=member,
        service=service,
        code=code,
        modifiers=["TG"],
        kind=kind,
        concurrent=concurrent,
        channel="portal",
        requesting_organization=provider,
        requesting_npi="1234567893",
        servicing_organization=provider,
        servicing_npi="1234567893",
        diagnosis_codes=DIAGNOSES,
        units=180,
        start_date=dt.date(2026, 12, 1),
        end_date=dt.date(2027, 5, 31),
        urgency="routine",
        received_at=dt.datetime(2026, 11, 16, 17, 0, tzinfo=dt.UTC),
        due_at=DUE_AT,
        extension_reason="We asked your provider for your housing assessment and are waiting for it.",
    )
    return Case(plan=plan, provider=provider, referrer=referrer, member=member, request=request)


def make_determination(case: Case, outcome: str) -> Determination:
    adverse = outcome in ("denied", "partially_approved")
    authorized = outcome in ("approved", "partially_approved")
    return Determination(
        request=case.request,
        outcome=outcome,
        authorized_units=(90 if outcome == "partially_approved" else 180) if authorized else None,
        start_date=dt.date(2026, 12, 1) if authorized else None,
        end_date=(dt.date(2027, 2, 28) if outcome == "partially_approved" else dt.date(2027, 5, 31))
        if authorized
        else None,
        reason_code="not_eligible" if adverse else "",
        reason="Your records do not show that you are homeless or at risk of homelessness."
        if adverse
        else "",
        criteria="DHCS Community Supports Policy Guide: Housing Transition Navigation eligibility"
        if adverse
        else "",
        decided_at=DECIDED_AT,
        on_time=True,
    )


def make_authorization(case: Case) -> Authorization:
    return Authorization(
        number="AUTH-2026-000045",
        request=case.request,
        member=case.member,
        service=case.request.service,
        code=case.request.code,
        servicing_organization=case.provider,
        plan=case.plan,
        units=180,
        start_date=dt.date(2026, 12, 1),
        end_date=dt.date(2027, 5, 31),
    )


def member_letter(case: Case, outcome: str, *, language: str | None = None) -> str:
    """The member's determination letter (rule A9) as the service layer will make it, as PDF text."""
    language = language or case.member.preferred_language
    determination = make_determination(case, outcome)
    authorization = make_authorization(case) if outcome in ("approved", "partially_approved") else None
    context = {
        "plan": case.plan,
        "recipient": case.member,
        "recipient_name": f"{case.member.first_name} {case.member.last_name}",
        "letter_date": LETTER_DATE,
        "request": case.request,
        "determination": determination,
        "authorization": authorization,
        "recipient_role": "member",
        "notice": notice_of_action(language, plan_name=case.plan.name, plan_phone=case.plan.phone),
    }
    return pdf_text(
        render_letter_pdf(template_name=f"{LETTERS}/determination_member", context=context, language=language)
    )


def provider_letter(case: Case, outcome: str, *, role: str) -> str:
    determination = make_determination(case, outcome)
    authorization = make_authorization(case) if outcome in ("approved", "partially_approved") else None
    recipient = case.provider if role == "servicing_provider" else case.referrer
    context = {
        "plan": case.plan,
        "recipient": recipient,
        "recipient_name": "Dana Referrer" if role == "referring_provider" else "",
        "letter_date": LETTER_DATE,
        "request": case.request,
        "determination": determination,
        "authorization": authorization,
        "recipient_role": role,
        "notice": notice_of_action("en", plan_name=case.plan.name, plan_phone=case.plan.phone),
    }
    return pdf_text(render_letter_pdf(template_name=f"{LETTERS}/determination_provider", context=context))


def extension_letter(case: Case, *, language: str) -> str:
    context = {
        "plan": case.plan,
        "recipient": case.member,
        "recipient_name": f"{case.member.first_name} {case.member.last_name}",
        "letter_date": LETTER_DATE,
        "request": case.request,
        "determination": None,
        "authorization": None,
        "recipient_role": "member",
        "notice": extension_notice(language, plan_name=case.plan.name, plan_phone=case.plan.phone),
    }
    return pdf_text(
        render_letter_pdf(template_name=f"{LETTERS}/extension_member", context=context, language=language)
    )


def pdf_text(pdf: bytes) -> str:
    """All pages' text with runs of whitespace made one space (lines wrap anywhere in a PDF)."""
    assert pdf.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def assert_all_in(text: str, *expected: str) -> None:
    missing = [e for e in expected if e not in text]
    assert not missing, f"missing {missing}"


# --------------------------------------------------------------------------------------------------------
# Member letters (A9)


def test_a9_denial_to_the_member_carries_the_notice_of_action_with_appeal_rights():
    text = member_letter(make_case(), "denied")
    assert_all_in(
        text,
        "Dear Ana Alvarez,",
        "About your request for Housing Transition Navigation Services",
        "A-2026-000123",
        "We said no",
        # the reason, in the model's words and the reviewer's, and the criteria cited
        "Member does not meet the eligibility criteria",
        "Your records do not show that you are homeless",
        "DHCS Community Supports Policy Guide: Housing Transition Navigation eligibility",
        # the notice of action (rule A9): appeal to the plan within 60 days, fast appeal, State Hearing ...
        "Your rights",
        "How to ask for an appeal",
        "within 60 calendar days from the date on this letter",
        "within 30 calendar days after we get your appeal",
        "fast appeal",
        "within 72 hours",
        "State Hearing",
        "within 120 days from the date on our appeal decision letter",
        "1-800-743-8525",
        "If we do not answer your appeal on time",
        "Independent Medical Review",
        "free copy of the rules (criteria)",
        # ... help lines and the plan's own number filled in
        "Call Golden State Health Plan at (916) 555-0100 (TTY 711)",
        "1-888-452-8609",
        "1-888-466-2219",
        "1-877-688-9891",
        "Help in your language",
        "Discrimination is against the law",
        "ATENCIÓN: Si necesita ayuda en su idioma",  # the Spanish tagline in an English letter
        "Sincerely,",
    )
    # an initial request: nothing is ongoing, so aid paid pending does not apply
    assert "To keep getting a service while you wait" not in text
    assert "Z59.01" not in text and "F20.9" not in text  # no diagnosis in a member letter


def test_a9_aid_paid_pending_is_explained_when_the_request_continues_an_ongoing_service():
    text = member_letter(make_case(kind=RequestKind.REAUTHORIZATION), "denied")
    assert_all_in(
        text,
        "To keep getting a service while you wait",
        "within 10 days from the date this letter was mailed or given to you",
    )
    concurrent = member_letter(make_case(concurrent=True), "partially_approved")
    assert "To keep getting a service while you wait" in concurrent


def test_a9_partial_approval_to_the_member_shows_what_was_asked_approved_and_why():
    text = member_letter(make_case(), "partially_approved")
    assert_all_in(
        text,
        "We said yes to part of the request",
        "Your provider asked for 180 units, from December 1, 2026 to May 31, 2027",
        "We approved 90 units",
        "From December 1, 2026 to February 28, 2027",
        "Harbor Housing Services",
        "(559) 555-0123",
        "AUTH-2026-000045",
        "Member does not meet the eligibility criteria",
        "Your rights",
        "within 60 calendar days",
    )


def test_a9_approval_to_the_member_names_service_units_dates_provider_and_authorization():
    text = member_letter(make_case(), "approved")
    assert_all_in(
        text,
        "We said yes",
        "Housing Transition Navigation Services",
        "We approved 180 units",
        "From December 1, 2026 to May 31, 2027",
        "Provider phone (559) 555-0123",
        "Harbor Housing Services",
        "Approval number AUTH-2026-000045",
        "Sincerely,",
    )
    # no adverse decision, so no notice of action
    assert "Your rights" not in text and "How to ask for an appeal" not in text


def test_a9_withdrawn_request_tells_the_member_nothing_was_decided():
    text = member_letter(make_case(), "withdrawn")
    assert_all_in(text, "The request was withdrawn", "We did not approve it and we did not deny it")
    assert "Your rights" not in text and "AUTH-2026-000045" not in text


def test_a9_member_whose_language_is_es_mx_gets_the_spanish_letter_and_notice():
    text = member_letter(make_case(language="es-MX"), "denied")
    assert_all_in(
        text,
        "23 de noviembre de 2026",
        "Estimado/a Ana Alvarez:",
        "Sobre su solicitud de Housing Transition Navigation Services",
        "Le dijimos que no",
        "La persona no cumple los requisitos del servicio",  # the Spanish reason label
        "Sus derechos",
        "Cómo pedir una apelación",
        "dentro de los 60 días calendario a partir de la fecha de esta carta",
        "72 horas",
        "Audiencia Estatal",
        "dentro de los 120 días",
        "Llame a Golden State Health Plan al (916) 555-0100 (TTY 711)",
        "La discriminación es contra la ley",
        "ATTENTION: If you need help in your language",  # the English tagline in a Spanish letter
        "Atentamente,",
        "Página 1 de",
    )
    assert "Your rights" not in text and "How to ask for an appeal" not in text


def test_a9_spanish_approval_letter():
    text = member_letter(make_case(language="es"), "approved")
    assert_all_in(text, "Le dijimos que sí", "Aprobamos 180 unidades", "AUTH-2026-000045", "(559) 555-0123")


def test_a9_language_without_a_letter_falls_back_to_english_letter_and_notice():
    text = member_letter(make_case(language="vi"), "denied")
    assert_all_in(text, "Dear Ana Alvarez,", "Your rights", "within 60 calendar days", "November 23, 2026")
    assert "Sus derechos" not in text


# --------------------------------------------------------------------------------------------------------
# Provider letters (A9)


def test_a9_denial_to_the_servicing_provider_names_request_member_code_reason_and_criteria():
    text = provider_letter(make_case(), "denied", role="servicing_provider")
    assert_all_in(
        text,
        "Re: Community Supports authorization request A-2026-000123: Denied",
        "Dear Harbor Housing Services,",
        "Ana Alvarez",
        "04/05/1980",
        "91000001A",
        "Housing Transition Navigation Services",
        "H0043 U6 TG",
        "Requested Authorized",
        "Units 180 None",
        "12/01/2026 to 05/31/2027",
        "Member does not meet the eligibility criteria",
        "Criteria cited",
        "DHCS Community Supports Policy Guide",
        "Diagnosis codes Z59.01, F20.9",
        "The member has been sent a notice of this decision with their appeal rights",
        "visible in Community Supports Hub",
    )
    assert "Authorization number" not in text


def test_a9_approval_to_the_servicing_provider_carries_the_authorization_number():
    text = provider_letter(make_case(), "partially_approved", role="servicing_provider")
    assert_all_in(
        text,
        "Partially approved",
        "Units 180 90",
        "12/01/2026 to 05/31/2027 12/01/2026 to 02/28/2027",
        "Authorization number AUTH-2026-000045",
        "authorization number AUTH-2026-000045, within the authorized units and dates",
        "visible in Community Supports Hub",
    )


def test_a9_referring_provider_letter_has_no_diagnosis_codes():
    """Minimum necessary: the referring provider learns the outcome, not the member's diagnoses."""
    for outcome in ("approved", "denied"):
        text = provider_letter(make_case(), outcome, role="referring_provider")
        assert_all_in(
            text,
            "Dear Dana Referrer,",
            "Valley Medical Center",
            "You referred the member below",
            "A-2026-000123",
            "91000001A",
            "visible in Community Supports Hub",
        )
        for code in DIAGNOSES:
            assert code not in text
        assert "Diagnosis" not in text
    assert "AUTH-2026-000045" in provider_letter(make_case(), "approved", role="referring_provider")


# --------------------------------------------------------------------------------------------------------
# Extension letters (A8)


def test_a8_extension_letter_gives_the_reason_new_due_date_and_grievance_right():
    text = extension_letter(make_case(), language="en")
    assert_all_in(
        text,
        "We need more time to decide on your request",
        "up to 14 more calendar days",
        "Why we need more time",
        "We asked your provider for your housing assessment and are waiting for it.",
        "When we will decide",
        "Monday, December 7, 2026",
        "If you do not agree",
        "grievance",
        "Call Golden State Health Plan at (916) 555-0100 (TTY 711)",
        "1-888-466-2219",
        "A-2026-000123",
    )


def test_a8_extension_letter_in_spanish():
    text = extension_letter(make_case(language="es"), language="es")
    assert_all_in(
        text,
        "Necesitamos más tiempo para decidir sobre su solicitud",
        "hasta 14 días calendario más",
        "Por qué necesitamos más tiempo",
        "We asked your provider for your housing assessment",  # the reviewer's own words
        "lunes 7 de diciembre de 2026",
        "puede presentar una queja",
        "Atentamente,",
    )


def test_a8_extension_letter_in_a_language_without_a_template_is_english():
    text = extension_letter(make_case(language="ko"), language="ko")
    assert_all_in(text, "We need more time to decide on your request", "Monday, December 7, 2026")


def test_letter_values_are_escaped():
    case = make_case()
    case.request.extension_reason = "<b>soon</b> & more"
    html = render_letter_html(
        template_name=f"{LETTERS}/extension_member",
        context={"plan": case.plan, "request": case.request, "notice": extension_notice("en")},
    )
    assert "&lt;b&gt;soon&lt;/b&gt; &amp; more" in html


# --------------------------------------------------------------------------------------------------------
# The notice text loader


def test_a9_notice_language_falls_back_from_region_to_language_to_english():
    assert notice_of_action("es-MX").language == "es"
    assert notice_of_action("ES_mx").language == "es"
    assert notice_of_action("es").language == "es"
    assert notice_of_action("vi").language == "en"
    assert notice_of_action("").language == "en"
    assert extension_notice("es-US").language == "es"
    assert extension_notice("hy").language == "en"


def test_a9_notice_has_every_required_section_in_order_with_sources():
    notice = notice_of_action("en")
    keys = [s.key for s in notice.sections]
    for required in notice_text.REQUIRED_NOTICE_SECTIONS:
        assert required in keys
    assert keys.index("appeal") < keys.index("state_hearing") < keys.index("nondiscrimination")
    assert all(s.sources and all(src.title for src in s.sources) for s in notice.sections)
    assert notice.by_key["aid_paid_pending"].ongoing_only
    # what could not be confirmed is marked, and said so in the file
    assert {s.key for s in notice.to_verify} >= {"aid_paid_pending", "dmhc_statement"}
    assert all(s.note for s in notice.to_verify)


def test_a9_plan_name_and_phone_fill_the_text_or_neutral_wording_is_used():
    filled = notice_of_action("en", plan_name="Sierra Coast Health", plan_phone="9165550199")
    assert "Call Sierra Coast Health at (916) 555-0199 (TTY 711)." in filled.by_key["criteria"].paragraphs[0]
    neutral = notice_of_action("es")
    assert "al el número" not in neutral.by_key["criteria"].paragraphs[0]
    assert "su plan de salud" in neutral.by_key["criteria"].paragraphs[0]
    assert not any("{" in p for s in neutral.sections for p in s.paragraphs)


def test_a9_spanish_reason_labels_cover_every_reason_code():
    from cshub.authorizations.models import DenialReason

    labels = notice_of_action("es").reason_labels
    assert set(labels) == set(DenialReason.values)
    assert notice_of_action("en").reason_labels["not_eligible"] == DenialReason.NOT_ELIGIBLE.label


def test_a8_extension_notice_has_the_sections_the_letter_fills_in():
    notice = extension_notice("en")
    assert notice.days == 14
    assert [s.key for s in notice.sections] == list(notice_text.REQUIRED_EXTENSION_SECTIONS)


def test_the_shipped_notice_file_passes_the_system_check():
    assert check_notice_file() == []


# -- broken files --------------------------------------------------------------------------------------------


@pytest.fixture
def notice_copy(tmp_path: Path):
    """Write a variant of the shipped file: give (old, new) replacements; returns the path."""
    original = notice_text.NOTICE_FILE.read_text(encoding="utf-8")

    def write(*replacements: tuple[str, str]) -> Path:
        text = original
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new, 1)
        path = tmp_path / "notice_of_action.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.mark.parametrize(
    ("replacement", "key"),
    [
        (('heading = "Cómo pedir una apelación"\n', ""), "notice_of_action.sections[appeal].es.heading"),
        (('key = "state_hearing"\n', 'key = "hearing"\n'), "notice_of_action.sections[state_hearing]"),
        (('key = "reason"\n', 'key = "why"\n'), "extension.sections[reason]"),
        (
            ("Call {plan_name} at {plan_phone}", "Call {plan} at {plan_phone}"),
            "notice_of_action.sections[appeal].en",
        ),
        (
            ('sources = ["wic_14197_3"]', 'sources = ["nowhere"]'),
            "notice_of_action.sections[expedited_appeal].sources",
        ),
        (('not_eligible = "La persona', 'eligible = "La persona'), "reason_labels.es.not_eligible"),
        (
            ('confidence = "documented"\n', 'confidence = "sure"\n'),
            "notice_of_action.sections[appeal].confidence",
        ),
        (('plan_phone = "número', 'phone = "número'), "placeholders.es.plan_phone"),
        (("days = 14\n", ""), "extension.days"),
        (('version = "2026-01"\n', ""), "version"),
    ],
)
def test_a9_a_broken_notice_file_names_the_missing_or_bad_key(notice_copy, replacement, key):
    path = notice_copy(replacement)
    with pytest.raises(NoticeFileError) as exc:
        read_notice_file(path)
    assert exc.value.key.startswith(key)
    assert key in str(exc.value)
    assert "notice_of_action.toml" in str(exc.value)


def test_a9_notice_file_that_is_not_toml_or_missing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("languages = [\n", encoding="utf-8")
    with pytest.raises(NoticeFileError, match="not valid TOML"):
        read_notice_file(bad)
    with pytest.raises(NoticeFileError, match="cannot be read"):
        read_notice_file(tmp_path / "missing.toml")


def test_a9_system_check_reports_a_broken_notice_file(notice_copy, monkeypatch):
    broken = notice_copy(('heading = "How to ask for an appeal"\n', ""))
    monkeypatch.setattr(notice_text, "NOTICE_FILE", broken)
    try:
        errors = check_notice_file()
        assert [e.id for e in errors] == ["authorizations.E001"]
        assert "notice_of_action.sections[appeal].en.heading" in errors[0].msg
    finally:
        monkeypatch.undo()
        notice_text.notice_file.cache_clear()  # the next test reads the shipped file again
    assert check_notice_file() == []
