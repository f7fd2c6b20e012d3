from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from cshub.core import context

# All scripts and styles are vendored under static/ (no CDN at run time), so the policy can be strict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The API docs page (Swagger UI) is rendered by django-ninja from its own static files.
API_DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = API_DOCS_POLICY if request.path.startswith("/api/docs") else CONTENT_SECURITY_POLICY
            response["Content-Security-Policy"] = policy
        return response


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, set CSHUB_TRUST_X_FORWARDED_FOR; the demo serves directly.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Records the channel (web or api), client address and path for the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with context.acting(channel, client_ip(request), request.path):
            return self.get_response(request)


class RequireMfaForPlanStaffMiddleware:
    """DESIGN: two-factor authentication is mandatory for plan staff. Until a plan user has set up TOTP,
    every page sends them to the setup page (setting CSHUB_MFA_REQUIRED_FOR_PLAN; the demo turns it off)."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/api/", "/catalog/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        user = getattr(request, "user", None)
        if (
            settings.CSHUB_MFA_REQUIRED_FOR_PLAN
            and user is not None
            and user.is_authenticated
            and getattr(user, "is_plan_staff", False)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            from allauth.mfa.models import Authenticator
            from django.shortcuts import redirect

            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                return redirect("mfa_activate_totp")
        return self.get_response(request)
