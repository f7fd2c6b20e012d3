"""Rule A9: the PDF letters about a request, made through `core.letters` (WeasyPrint) and kept with the
request: to the member (in the member's language where a template exists, English otherwise), to the
referring provider and to the servicing provider; a denial or partial approval carries the notice of
action (reason, criteria, appeal rights) from cshub/data/notice_of_action.toml. Rule A8: the member's
notice when the plan takes an extension."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile

from cshub.authorizations.models import Letter
from cshub.authorizations.notice_text import extension_notice, notice_of_action
from cshub.core import clock
from cshub.core.letters import letter_template_names, render_letter_pdf

if TYPE_CHECKING:
    from cshub.accounts.models import Organization
    from cshub.authorizations.models import Authorization, AuthorizationRequest, Determination

MEMBER_TEMPLATE = "authorizations/letters/determination_member"
PROVIDER_TEMPLATE = "authorizations/letters/determination_provider"
EXTENSION_TEMPLATE = "authorizations/letters/extension_member"


def _language_used(template: str, language: str) -> str:
    """The language of the template that will render (the member's, its base language, or English)."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    for name, lang in letter_template_names(template, language):
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        return lang
    return "en"


def _member_name(request: AuthorizationRequest) -> str:
    return f"{request.member.first_name} {request.member.last_name}"


def _keep(
    request: AuthorizationRequest,
    *,
    kind: str,
    recipient: str,
    organization: Organization | None,
    template: str,
    language: str,
    context: dict[str, Any],
) -> Letter:
    pdf = render_letter_pdf(template_name=template, context=context, language=language)
    letter = Letter(
        request=request,
        kind=kind,
        recipient=recipient,
        recipient_organization=organization,
        language=language,
        size=len(pdf),
    )
    letter.file.save(f"{request.number}-{kind}-{recipient}.pdf", ContentFile(pdf), save=False)
    letter.save()
    return letter


def _recipients(request: AuthorizationRequest) -> list[tuple[str, Organization]]:
    """The servicing provider, and the referring provider when it is another organization: the referral's
    referrer, else the requester (a hospital, rule A5)."""
    found = [(Letter.Recipient.SERVICING_PROVIDER, request.servicing_organization)]
    referral = request.referral
    referring = referral.referring_organization if referral is not None else None
    if referring is None and request.requesting_organization_id != request.servicing_organization_id:
        referring = request.requesting_organization
    if referring is not None and referring.pk != request.servicing_organization_id:
        found.append((Letter.Recipient.REFERRING_PROVIDER, referring))
    return found


def determination_letters(
    request: AuthorizationRequest, determination: Determination, authorization: Authorization | None
) -> list[Letter]:
    """The member's letter and the providers' letters about a determination."""
    base = {
        "plan": request.plan,
        "letter_date": clock.today(),
        "request": request,
        "determination": determination,
        "authorization": authorization,
    }
    language = _language_used(MEMBER_TEMPLATE, request.member.preferred_language or "en")
    made = [
        _keep(
            request,
            kind=Letter.Kind.DETERMINATION,
            recipient=Letter.Recipient.MEMBER,
            organization=None,
            template=MEMBER_TEMPLATE,
            language=language,
            context={
                **base,
                "recipient": request.member,
                "recipient_name": _member_name(request),
                "recipient_role": "member",
                "notice": notice_of_action(
                    language, plan_name=request.plan.name, plan_phone=request.plan.phone
                ),
            },
        )
    ]
    for recipient, organization in _recipients(request):
        made.append(
            _keep(
                request,
                kind=Letter.Kind.DETERMINATION,
                recipient=recipient,
                organization=organization,
                template=PROVIDER_TEMPLATE,
                language="en",
                context={
                    **base,
                    "recipient": organization,
                    "recipient_name": organization.name,
                    "recipient_role": recipient,
                    "notice": notice_of_action(
                        "en", plan_name=request.plan.name, plan_phone=request.plan.phone
                    ),
                },
            )
        )
    return made


def extension_letter(request: AuthorizationRequest) -> Letter:
    """Rule A8: the member is told of the extension, its reason and the new due date."""
    language = _language_used(EXTENSION_TEMPLATE, request.member.preferred_language or "en")
    return _keep(
        request,
        kind=Letter.Kind.EXTENSION,
        recipient=Letter.Recipient.MEMBER,
        organization=None,
        template=EXTENSION_TEMPLATE,
        language=language,
        context={
            "plan": request.plan,
            "letter_date": clock.today(),
            "request": request,
            "determination": None,
            "authorization": None,
            "recipient": request.member,
            "recipient_name": _member_name(request),
            "recipient_role": "member",
            "notice": extension_notice(language, plan_name=request.plan.name, plan_phone=request.plan.phone),
        },
    )
