"""The REST API root: /api/v1, OpenAPI at /api/openapi.json, docs at /api/docs.

Auth: the browser session (with CSRF) for pages, `Authorization: Bearer csh_…` API keys for systems.
Errors: RFC 9457 problem bodies; invalid input is 422 with field details, never a 500.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from cshub.core.errors import DomainError


def _user_for_api_key(request: HttpRequest, raw: str | None) -> object | None:
    """The service user behind the key, set as request.user so every scoped selector applies."""
    from cshub.accounts.services import api_key_authenticate

    user = api_key_authenticate(raw or "")
    if user is not None:
        request.user = user
    return user


class ApiKeyBearer(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> object | None:
        return _user_for_api_key(request, token)


class ApiKeyHeaderAuth(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> object | None:
        return _user_for_api_key(request, key)


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> object | None:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active and user.organization_id else None


def problem(
    request: HttpRequest,
    status: int,
    title: str,
    detail: str = "",
    errors: list | None = None,
    code: str = "",
    **extensions: object,
) -> HttpResponse:
    """An RFC 9457 problem document; `extensions` are extra members (e.g. a record's current version)."""
    body: dict[str, object] = {"type": f"about:blank#{code or status}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extensions)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


api = NinjaAPI(
    title="Community Supports Hub API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=[ApiKeyBearer(), ApiKeyHeaderAuth(), ActiveSessionAuth()],
    description=(
        "The API of Community Supports Hub. Authenticate with an organization's API key "
        "(`Authorization: Bearer csh_…`) or a browser session. Every list is scoped to the caller's "
        "organization and roles. Errors are problem documents (RFC 9457); invalid input answers 422 with "
        "`errors`: [{field, message, code}]."
    ),
)


def _loc_to_field(loc: list | tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload", "file", "data")]
    return ".".join(parts) or "request"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": _loc_to_field(e.get("loc", ())),
            "message": e.get("msg", "invalid"),
            "code": e.get("type", "invalid"),
        }
        for e in exc.errors
    ]
    return problem(request, 422, "The request is not valid.", errors=errors, code="validation")


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(request, exc.status, exc.message, errors=[e.as_dict() for e in exc.errors], code=exc.code)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "Not found.", detail=str(exc) or "", code="not_found")


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(request, 403, "Your role does not allow this.", detail=str(exc), code="forbidden")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        request, 401, "Authentication required: an API key or a signed-in session.", code="unauthorized"
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(request, exc.status_code, str(exc), code=str(exc.status_code))


def register_routers() -> None:
    """Each app's api.py owns its router; the API root only mounts them (the domain never imports the API)."""
    from cshub.accounts.api import router as accounts_router
    from cshub.authorizations.api import router as authorizations_router
    from cshub.capacity.api import router as capacity_router
    from cshub.catalog.api import router as catalog_router
    from cshub.claims.api import router as claims_router
    from cshub.contracts.api import router as contracts_router
    from cshub.contracts.api import training_router
    from cshub.directory.api import router as directory_router
    from cshub.exchange.api import router as exchange_router
    from cshub.exchange.csprtf_api import router as csprtf_router
    from cshub.members.api import router as members_router
    from cshub.network.api import router as network_router
    from cshub.notifications.api import router as notifications_router
    from cshub.referrals.api import router as referrals_router
    from cshub.reports.api import router as reports_router

    api.add_router("/organizations", accounts_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/members", members_router)
    api.add_router("/referrals", referrals_router)
    api.add_router("/notifications", notifications_router)
    api.add_router("/authorizations", authorizations_router)
    api.add_router("", claims_router)  # /claims, /claim-files, /claim-invoices.csv, /payments, /payment-runs
    api.add_router("/contracts", contracts_router)
    api.add_router("/training", training_router)
    api.add_router("/capacity", capacity_router)
    api.add_router("/directory", directory_router)
    api.add_router("/network", network_router)
    api.add_router("/exchange", exchange_router)
    api.add_router("/exchange/csprtf", csprtf_router)
    api.add_router("/reports", reports_router)


register_routers()
