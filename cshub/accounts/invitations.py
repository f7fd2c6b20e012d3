"""The invitation email: a one-time link (allauth's password-reset key) where the new user sets a password."""

from __future__ import annotations

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from cshub.accounts.models import Organization, User


def invitation_link(request: HttpRequest | None, user: User) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    return request.build_absolute_uri(path) if request is not None else f"http://127.0.0.1:8000{path}"


def send_invitation(*, request: HttpRequest | None, user: User, organization: Organization) -> None:
    context = {"organization": organization, "email": user.email, "link": invitation_link(request, user)}
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
