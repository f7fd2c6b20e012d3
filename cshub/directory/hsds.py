"""Open Referral Human Services Data Specification (HSDS) export of the directory (rule N8).

Schema version: HSDS 3.0 (https://docs.openreferral.org/en/v3.0/hsds/schema_reference.html; schema files
openreferral/specification, schema/*.json). The export is the HSDS tables in JSON, each object carrying
its foreign keys like the tabular data package: organizations, services, locations, addresses,
service_at_locations, service_areas, phones, languages, schedules. Required fields per HSDS 3.0:
organization id, name, description; service id, name, status; location id, location_type; phone id,
number; address id, address_1, city, state_province, postal_code, country, address_type; service_area,
language, schedule and service_at_location id.

Ids are UUIDs (HSDS asks for `format: uuid`): organizations keep their public id, every other object gets
a stable UUIDv5 derived from what it describes, so the same export twice has the same ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from cshub.directory.selectors import DirectoryEntry

HSDS_VERSION = "3.0"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/cshub/cshub/hsds")
TIMEZONE_NOTE = "Times are Pacific time (America/Los_Angeles)."


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))


def _phone(number: str) -> str:
    return f"+1 {number[:3]} {number[3:6]} {number[6:]}" if len(number) == 10 else number


def _schedules(entry: DirectoryEntry, service_id: str) -> list[dict[str, Any]]:
    """Weekdays with the same hours become one weekly RRULE-style schedule (freq WEEKLY, byday MO,TU…)."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for h in entry.weekly_hours:
        groups[(h["opens"], h["closes"])].append(h["day"].upper())
    schedules = [
        {
            "id": _id("schedule", service_id, opens, closes),
            "service_id": service_id,
            "freq": "WEEKLY",
            "wkst": "MO",
            "byday": ",".join(days),
            "opens_at": opens,
            "closes_at": closes,
            "description": f"{','.join(days)} {opens}-{closes}",
            "notes": TIMEZONE_NOTE,
        }
        for (opens, closes), days in groups.items()
    ]
    if entry.hours_text:
        schedules.append(
            {
                "id": _id("schedule", service_id, "text"),
                "service_id": service_id,
                "description": entry.hours_text,
            }
        )
    return schedules


def _organization(entry: DirectoryEntry) -> tuple[dict[str, Any], list[dict], list[dict], list[dict]]:
    org = entry.organization
    org_id = str(org.uuid)
    record: dict[str, Any] = {
        "id": org_id,
        "name": org.name,
        "description": (
            f"{org.name}: Community Supports provider under contract with a Medi-Cal managed care plan."
        ),
    }
    if org.email:
        record["email"] = org.email
    if org.website:
        record["website"] = org.website
    phones = []
    if org.phone:
        phones.append(
            {
                "id": _id("phone", org_id),
                "organization_id": org_id,
                "number": _phone(org.phone),
                "type": "voice",
            }
        )
    locations, addresses = [], []
    if org.address_line and org.city and org.zip_code:
        location_id = _id("location", org_id)
        locations.append(
            {"id": location_id, "organization_id": org_id, "location_type": "physical", "name": org.name}
        )
        addresses.append(
            {
                "id": _id("address", org_id),
                "location_id": location_id,
                "address_1": org.address_line,
                "city": org.city,
                "state_province": "CA",
                "postal_code": org.zip_code,
                "country": "US",
                "address_type": "physical",
            }
        )
    return record, phones, locations, addresses


def hsds_document(entries: list[DirectoryEntry], *, generated_at: dt.datetime, base_url: str = "") -> dict:
    """The HSDS 3.0 tables of the given directory entries (already filtered to active contracted services)."""
    doc: dict[str, Any] = {
        "hsds_version": HSDS_VERSION,
        "generated_at": generated_at.isoformat(),
        "publisher": "Community Supports Hub",
        "organizations": [],
        "services": [],
        "locations": [],
        "addresses": [],
        "service_at_locations": [],
        "service_areas": [],
        "phones": [],
        "languages": [],
        "schedules": [],
    }
    seen_orgs: dict[int, str | None] = {}
    for entry in entries:
        org = entry.organization
        if org.pk not in seen_orgs:
            record, phones, locations, addresses = _organization(entry)
            doc["organizations"].append(record)
            doc["phones"].extend(phones)
            doc["locations"].extend(locations)
            doc["addresses"].extend(addresses)
            seen_orgs[org.pk] = locations[0]["id"] if locations else None
        org_id = str(org.uuid)
        service_id = _id("service", org_id, entry.service.key)
        accepting = entry.accepting_counties
        service: dict[str, Any] = {
            "id": service_id,
            "organization_id": org_id,
            "name": entry.service.name,
            "alternate_name": f"{entry.service.name} — {org.name}",
            "description": entry.description or entry.service.description,
            "status": "active",
            "application_process": (
                "Referrals through Community Supports Hub (electronic, fax or phone); members and their "
                "families may refer themselves."
            ),
            "eligibility_description": (
                "Medi-Cal members enrolled with a contracted managed care plan who meet the Community "
                "Supports eligibility criteria."
            ),
            "alert": (
                "Accepting new referrals now in: " + ", ".join(c.name for c in accepting) + "."
                if accepting
                else "Not accepting new referrals right now."
            ),
        }
        if base_url:
            service["url"] = f"{base_url}/directory/programs/{org_id}/{entry.service.key}/"
        if entry.updated_at:
            service["assured_date"] = entry.updated_at.date().isoformat()
        doc["services"].append(service)
        location_id = seen_orgs[org.pk]
        if location_id:
            doc["service_at_locations"].append(
                {
                    "id": _id("service_at_location", service_id, location_id),
                    "service_id": service_id,
                    "location_id": location_id,
                }
            )
        for county in entry.counties:
            doc["service_areas"].append(
                {
                    "id": _id("service_area", service_id, county.fips),
                    "service_id": service_id,
                    "name": f"{county.name} County, California",
                    "description": f"Contracted to serve Medi-Cal members living in {county.name} County.",
                    "extent_type": "text",
                    "extent": f"{county.name} County, CA (FIPS {county.fips})",
                }
            )
        if entry.phone:
            doc["phones"].append(
                {
                    "id": _id("phone", service_id),
                    "service_id": service_id,
                    "number": _phone(entry.phone),
                    "type": "voice",
                    "description": "Intake line",
                }
            )
        for code, name in entry.languages:
            doc["languages"].append(
                {
                    "id": _id("language", service_id, code),
                    "service_id": service_id,
                    "name": name,
                    "code": code,
                }
            )
        doc["schedules"].extend(_schedules(entry, service_id))
    return doc
