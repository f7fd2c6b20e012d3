"""Shared helpers of the claims API tests: a clean claim as JSON, claims stored through the services."""

from __future__ import annotations

import itertools

from cshub.claims.models import Claim, ClaimSource, ReceiptChannel
from cshub.claims.services import claims_receive
from tests.claims.conftest import SERVICE_DAY

API = "/api/v1"
CLAIMS = f"{API}/claims"

_pcn = itertools.count(1)


def claim_json(clw, *, lines: list[dict] | None = None, **overrides) -> dict:
    """A clean one-line navigation invoice for member A from provider A, as the API takes it."""
    code = clw.nav_code
    data = {
        "kind": "invoice",
        "member_id": clw.member_a.cin,
        "patient_control_number": f"API-{next(_pcn)}",
        "diagnosis_codes": ["Z59.01"],
        "place_of_service": "12",
        "lines": lines
        if lines is not None
        else [line_json(clw, hcpcs=code.hcpcs, modifiers=[code.modifier])],
    }
    data.update(overrides)
    return data


def line_json(clw, **overrides) -> dict:
    code = clw.nav_code
    data = {
        "hcpcs": code.hcpcs,
        "modifiers": [code.modifier],
        "service_from": SERVICE_DAY.isoformat(),
        "units": 1,
        "charge": "125.00",
    }
    data.update(overrides)
    return data


def post(client, path: str, data: dict, **headers: str):
    return client.post(path, data, content_type="application/json", headers=headers or None)


def receive(clw, *inputs, actor=None, received_at=None, source=ClaimSource.INVOICE_WEB) -> list[Claim]:
    """Claims stored and adjudicated through the service every door calls (to fill lists)."""
    actor = actor or clw.billing
    return claims_receive(
        actor=actor,
        inputs=list(inputs),
        source=source,
        channel=ReceiptChannel.WEB,
        received_at=received_at,
        submitter=actor.organization,
    ).claims
