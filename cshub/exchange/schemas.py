"""Shapes of the exchange API (cshub/exchange/api.py); the rules live in services and selectors."""
# No `from __future__ import annotations` here: ninja and pydantic resolve these types at import.

from datetime import date, datetime
from uuid import UUID

from ninja import Schema
from pydantic import Field

from cshub.referrals.schemas import FieldErrorOut


class ExchangeOrganizationOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    name: str
    npi: str
    plan_code: str


class ExchangeFileOut(Schema):
    id: UUID = Field(validation_alias="uuid")
    kind: str = Field(description="csasf (plan to provider, rule D1) or csprtf (provider to plan, rule D2)")
    direction: str = Field(description="out: cshub sent it; in: cshub received it")
    plan: ExchangeOrganizationOut
    organization: ExchangeOrganizationOut = Field(description="the CS provider the file is for or from")
    production_date: date
    period_start: date
    period_end: date
    file_name: str
    sha256: str
    size: int
    rows: int = Field(description="data rows, header not counted")
    error_rows: int
    status: str
    created_at: datetime
    delivered_at: datetime | None = None
    outbox_path: str = Field(description="where it is in the provider's SFTP folder ('' when not put there)")
    download_url: str


class ExchangeFileDownloadOut(Schema):
    at: datetime
    user: str | None = None
    organization: str | None = None
    channel: str
    rows: int


class ExchangeFileDetailOut(ExchangeFileOut):
    message: str
    layout_key: str
    downloads: list[ExchangeFileDownloadOut]


class ExchangeProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldErrorOut] = []
