"""Shared helpers of the authorizations API tests: a complete request as JSON and files as base64."""

from __future__ import annotations

import base64
import uuid

from cshub.authorizations import services
from cshub.authorizations.models import AuthorizationRequest
from cshub.catalog.models import Service

API = "/api/v1/authorizations"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"


def b64_file(name: str = "assessment.pdf", content: bytes = PDF, **extra: str) -> dict[str, str]:
    return {"file_name": name, "content_base64": base64.b64encode(content).decode(), **extra}


def payload(aw, **overrides) -> dict:
    """A complete housing navigation request for member A from provider A, as the API takes it."""
    service_key = overrides.pop("service", "housing_transition_navigation")
    service = Service.objects.get(key=service_key)
    code = service.codes.filter(active=True).order_by("hcpcs", "modifier").first()
    data = {
        "member": str(aw.member_a.uuid),
        "service": service_key,
        "hcpcs": code.hcpcs,
        "modifier": code.modifier,
        "requesting_npi": aw.npi_a,
        "servicing_npi": aw.npi_a,
        "diagnosis_codes": ["Z59.01"],
        "units": 30,
        "start_date": "2026-11-23",
        "end_date": "2026-12-22",
        "checklist_confirmed": services.required_documents(service, overrides.get("kind", "initial")),
        "documents": [b64_file()],
    }
    data.update(overrides)
    return data


def post(client, path: str, data: dict, **headers: str):
    return client.post(path, data, content_type="application/json", headers=headers or None)


def copies(auth_request: AuthorizationRequest, n: int) -> None:
    """`n` more rows like this request (for query-count tests; the rules were checked for the first)."""
    for _ in range(n):
        auth_request.pk = None
        auth_request.uuid = uuid.uuid4()
        auth_request.number = f"A-2026-{uuid.uuid4().hex[:7]}"
        auth_request.save()
