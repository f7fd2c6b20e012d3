"""Synthetic referrals for `cshub seed`: the closed loop (rules R1-R9, O1-O4, A1, M2) in every state.

Called by `cshub.devtools.seed.seed` after the members are written, in the same transaction, when the service
catalog is loaded (`cshub catalog load`; `cshub demo` loads it first). It writes:

- a `ProviderIntake` for every seeded CS provider: services from the catalog (by the provider's name:
  "... Recuperative Care" takes recuperative care and post-hospitalization housing), the provider's counties,
  accepting new referrals except for a few;
- referrals through every door (portal and API from hospitals, ECM providers and other entities,
  self-referral, fax with its image, phone, email, plan assignment for outreach, CS to CS), in every status of
  cshub/data/referral_workflow.toml, each with a coherent history: `ReferralEvent` rows in order, outreach
  attempts (some meeting rule O3, some not), first contact checks (rule A1, results per catalog checklist
  item,  duplicative programs from the member's records), consents and enrollments (rules R4, M2), duplicates
  flagged, referrals left to the plan to assign, CS-to-CS onward referrals (R7) and referrals to ECM that end
  "unable to process" with their letter (R8), and the care relationships that let providers see the members.

The history is written directly (bulk inserts, COPY on PostgreSQL through the seeder's writers) rather than
through the services, which would take hours at 300,000 referrals; instead every status change is checked
against the transition table and its party as it is generated, so the data can only hold moves the table
allows. Everything is drawn from `random.Random` streams of the seed; "now" is `REFERENCE_DATE` 8:00 Pacific.

The demo's logins belong to the first organization of each kind by name (`cshub demo`); those organizations
are the "focus" ones here: the first CS provider receives a larger share of the referrals and a fixed set of
scenarios (new referrals in its intake queue, outreach under way, every closing status), the first hospital,
ECM provider and other entity send referrals, and the first plan has referrals to assign.

Referral ids are taken from just above the highest id in the table (not from the sequence), and numbers are
`R-<year>-<id>` like the ones `referral_create` gives, so the same seed on the same database gives the same
numbers; the id sequence is then moved past them so later referrals never collide.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import hashlib
import heapq
import itertools
import json
import logging
import random
import time
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from faker import Faker

from cshub.accounts.models import Organization
from cshub.accounts.roles import OrganizationKind
from cshub.catalog.models import Service
from cshub.core import clock
from cshub.core.reference import read_data_csv
from cshub.devtools import seed as base
from cshub.members import models as member_models
from cshub.members.models import EcmAssignment, EligibilitySpan, Member, ProgramEnrollment
from cshub.referrals.models import (
    Channel,
    Enrollment,
    FirstContactCheck,
    OutreachAttempt,
    ProviderIntake,
    Referral,
    ReferralDocument,
    ReferralEvent,
    ReferrerKind,
)
from cshub.referrals.services import SELF_REFERRAL_CONSENT_VERSION, checklist_evaluate
from cshub.referrals.workflow import INITIAL_STATUS, workflow

__all__ = ["REFERRAL_CAP", "REFERRAL_SHARE", "ReferralSeedResult", "default_referrals", "seed_referrals"]

REFERRAL_SHARE = 0.05  # default referrals: 5% of the members...
REFERRAL_CAP = 300_000  # ...at most a large plan's yearly volume (DESIGN.md sizing)
CHUNK = 20_000  # referrals generated and written per round trip
WINDOW_DAYS = 365  # referrals were received over the year before the reference date
HORIZON = datetime(
    base.REFERENCE_DATE.year, base.REFERENCE_DATE.month, base.REFERENCE_DATE.day, 16, tzinfo=UTC
)
# R8 letters rendered through the letter adapter (WeasyPrint, about a second for the first); the others get a
# plain one-page PDF with the same facts, so a large seed stays fast.
LETTERS_RENDERED = 1
FOCUS_WEIGHT = 3.0  # the demo's organizations are this many times as likely to be picked as another one

# The catalog's services that providers with these words in their name take referrals for.
_INTAKE_BY_NAME: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Housing Navigation",
        ("housing_transition_navigation", "housing_deposits", "housing_tenancy_sustaining"),
    ),
    ("Recuperative Care", ("recuperative_care", "short_term_post_hospitalization_housing")),
    ("Meals on Wheels", ("medically_tailored_meals",)),
    ("Medically Tailored Meals", ("medically_tailored_meals",)),
    ("Home Modification", ("environmental_accessibility_adaptations", "asthma_remediation")),
    ("Sobering Center", ("sobering_centers",)),
    ("Respite Care", ("respite_services", "personal_care_homemaker")),
    (
        "Community Living",
        ("nf_transition_diversion_alf", "community_transition_nf_to_home", "personal_care_homemaker"),
    ),
    ("Tenancy Support", ("housing_tenancy_sustaining", "housing_deposits", "transitional_rent")),
    (
        "Recovery Housing",
        ("short_term_post_hospitalization_housing", "transitional_rent", "day_habilitation"),
    ),
)
# How often each service is asked for (housing and meals dominate CS referrals); unknown keys weigh 2.
_SERVICE_DEMAND = {
    "housing_transition_navigation": 22,
    "medically_tailored_meals": 18,
    "housing_tenancy_sustaining": 12,
    "recuperative_care": 9,
    "housing_deposits": 8,
    "short_term_post_hospitalization_housing": 5,
    "personal_care_homemaker": 5,
    "respite_services": 3,
    "asthma_remediation": 3,
    "environmental_accessibility_adaptations": 3,
    "sobering_centers": 3,
    "nf_transition_diversion_alf": 2,
    "community_transition_nf_to_home": 2,
    "day_habilitation": 2,
    "transitional_rent": 3,
}
_CHANNELS = (  # regular referrals to a CS provider, by door (rules R1, R2)
    (Channel.PORTAL, 36),
    (Channel.PLAN_ASSIGNMENT, 14),
    (Channel.CS_TO_CS, 9),
    (Channel.SELF_REFERRAL, 8),
    (Channel.FAX, 9),
    (Channel.PHONE, 8),
    (Channel.EMAIL, 5),
    (Channel.API, 11),
)
_CIN_GIVEN = {  # share of referrals that arrive with the member's CIN (matched at once)
    Channel.PORTAL: 0.9,
    Channel.API: 1.0,
    Channel.PLAN_ASSIGNMENT: 1.0,
    Channel.CS_TO_CS: 1.0,
    Channel.SELF_REFERRAL: 0.5,
    Channel.FAX: 0.6,
    Channel.PHONE: 0.5,
    Channel.EMAIL: 0.6,
}
_ACCEPTING_ONLY = frozenset({Channel.PORTAL, Channel.API, Channel.SELF_REFERRAL, Channel.CS_TO_CS})
_LOGGED_BY_PROVIDER = frozenset({Channel.FAX, Channel.PHONE, Channel.EMAIL})
# Final status by age of the referral: young ones are mostly open, old ones mostly closed.
_STATUS_YOUNG = (
    ("pending", 55),
    ("accepted", 30),
    ("closed", 4),
    ("no_capacity", 3),
    ("referred_elsewhere", 4),
    ("not_eligible", 4),
)
_STATUS_MONTH = (
    ("pending", 12),
    ("accepted", 27),
    ("needs_member_action", 11),
    ("eligible", 17),
    ("got_help", 5),
    ("not_eligible", 8),
    ("no_longer_interested", 6),
    ("no_capacity", 3),
    ("referred_elsewhere", 5),
    ("closed", 5),
    ("unable_to_reach", 1),
)
_STATUS_OLD = (
    ("pending", 1.5),
    ("accepted", 2),
    ("needs_member_action", 2.5),
    ("eligible", 9),
    ("got_help", 37),
    ("unable_to_reach", 13),
    ("no_longer_interested", 10),
    ("not_eligible", 11),
    ("no_capacity", 4),
    ("referred_elsewhere", 5),
    ("closed", 6),
)
_PENDING_EXITS = frozenset({"closed", "not_eligible", "no_capacity", "referred_elsewhere"})
_NEEDS_CONTACT = frozenset({"eligible", "got_help"})
_SELF_KINDS = (
    (ReferrerKind.MEMBER, 50),
    (ReferrerKind.FAMILY, 25),
    (ReferrerKind.CAREGIVER, 15),
    (ReferrerKind.GUARDIAN, 10),
)
_RELATIONSHIPS = {  # what the referrer is to the member
    ReferrerKind.MEMBER: ("Self",),
    ReferrerKind.FAMILY: ("Daughter", "Son", "Spouse", "Mother", "Sister", "Brother", "Grandson"),
    ReferrerKind.CAREGIVER: ("Caregiver", "IHSS caregiver", "Neighbor who helps"),
    ReferrerKind.GUARDIAN: ("Legal guardian", "Conservator"),
    ReferrerKind.HOSPITAL: ("Discharge planner", "Hospital social worker", "Nurse case manager"),
    ReferrerKind.OTHER_PROVIDER: (
        "Case manager",
        "Social worker",
        "Primary care nurse",
        "Community health worker",
    ),
    ReferrerKind.ECM_PROVIDER: ("ECM care manager", "Lead care manager"),
}
_AREA_CODES = ("916", "213", "559", "619", "415", "209", "707", "951", "323", "510")
_PORTAL_KINDS = ("hospital", "ecm_provider", "other")
_API_KINDS = ("hospital", "ecm_provider")
_MAY_NAME_NO_PROVIDER = frozenset({Channel.PORTAL, Channel.API, Channel.SELF_REFERRAL})
_UNASSIGNED_CHANNELS = (str(Channel.PORTAL), str(Channel.SELF_REFERRAL), str(Channel.API))
_COMMON_SERVICES = (
    "housing_transition_navigation",
    "medically_tailored_meals",
    "housing_tenancy_sustaining",
    "recuperative_care",
)
_OUTREACH_END_STATUS = {  # services.OUTREACH_END_STATUS (rule O4)
    "unreachable": "unable_to_reach",
    "declined": "no_longer_interested",
    "disengaged": "no_longer_interested",
    "exclusion": "not_eligible",
}
_CONSENT_SCOPES = ["cs_services", "health_information"]
_OUTSIDE_KINDS = (  # who calls, faxes or emails a provider from outside the platform
    (ReferrerKind.HOSPITAL, 35),
    (ReferrerKind.OTHER_PROVIDER, 35),
    (ReferrerKind.ECM_PROVIDER, 10),
    (ReferrerKind.FAMILY, 12),
    (ReferrerKind.CAREGIVER, 8),
)
_REFERRER_KIND_OF_ORG = {
    OrganizationKind.HOSPITAL: ReferrerKind.HOSPITAL,
    OrganizationKind.ECM_PROVIDER: ReferrerKind.ECM_PROVIDER,
    OrganizationKind.OTHER: ReferrerKind.OTHER_PROVIDER,
    OrganizationKind.CS_PROVIDER: ReferrerKind.CS_PROVIDER,
}
# What referrers write (rule R3), by service; {place} is filled with the referring organization or a clinic.
_REASONS: dict[str, tuple[tuple[str, str], ...]] = {
    "housing_transition_navigation": (
        ("Experiencing homelessness; sleeping in a car for three months.", "Needs help finding housing."),
        ("Staying in an emergency shelter; on the coordinated entry list.", "Housing navigation requested."),
    ),
    "housing_deposits": (
        (
            "Has a housing voucher and a unit identified; cannot pay the deposit.",
            "Needs the security deposit.",
        ),
    ),
    "housing_tenancy_sustaining": (
        ("Recently housed after two years unsheltered; behind on rent once.", "Help keeping the tenancy."),
        ("Eviction notice received; landlord willing to talk.", "Tenancy support to avoid eviction."),
    ),
    "recuperative_care": (
        ("Discharged after surgery with wound care needs; no stable home.", "Recuperative care bed needed."),
    ),
    "short_term_post_hospitalization_housing": (
        ("Leaving inpatient care; was homeless before admission.", "Short-term housing after discharge."),
    ),
    "medically_tailored_meals": (
        ("Type 2 diabetes with A1c above 9; lives alone.", "Medically tailored meals after discharge."),
        ("Congestive heart failure, two admissions in six months.", "Low-sodium meals requested."),
    ),
    "personal_care_homemaker": (
        ("Needs help bathing and with meals after a stroke; waiting for IHSS.", "Personal care at home."),
    ),
    "respite_services": (("Daughter is the full-time caregiver and needs a break.", "Caregiver respite."),),
    "asthma_remediation": (
        ("Two ER visits for asthma this year; mold in the apartment.", "Asthma remediation."),
    ),
    "environmental_accessibility_adaptations": (
        ("Uses a wheelchair; bathroom not accessible.", "Grab bars and a ramp needed."),
    ),
    "sobering_centers": (("Brought in by police, intoxicated, no injuries.", "Sobering center stay."),),
    "nf_transition_diversion_alf": (
        ("At risk of nursing home placement; wants assisted living.", "Assisted living transition."),
    ),
    "community_transition_nf_to_home": (
        ("In a nursing facility for 90+ days; wants to move home.", "Help moving back to the community."),
    ),
    "day_habilitation": (
        ("Newly housed; needs help with daily living skills.", "Day habilitation program."),
    ),
    "transitional_rent": (("Leaving a recovery residence; income pending.", "Transitional rent requested."),),
}
_GENERIC_REASON = (("Referred for this Community Support.", "See the eligibility information."),)
_ECM_REASONS = (
    (
        "Three ED visits in six months, unstable housing and diabetes.",
        "Referral to Enhanced Care Management.",
    ),
    ("Serious mental illness and recent homelessness; no care coordinator.", "Needs ECM care coordination."),
)
_NOTES = {
    "no_answer": ("No answer.", "Rang out, no voicemail.", ""),
    "left_message": ("Left a voicemail with our number.", "Sent a text with our number.", ""),
    "not_found": ("Visited the address on file; member not there.", "Checked the shelter; not there today."),
    "wrong_contact": ("Number disconnected.", "Letter returned: wrong address."),
    "reached": ("Spoke with the member; explained the service.", "Met at the shelter; interested."),
    "scheduled": ("Visit scheduled at home next week.", "Appointment set at our office."),
    "declined": ("Member said they do not want the service now.", "Member declined; has other help."),
}
# Attempt modality weights (rule O2: in person first; the others when it fails or the member prefers).
_MODALITIES = (("phone", 40), ("text", 20), ("in_person", 18), ("mail", 7), ("telehealth", 5), ("email", 10))
_MISSES = {
    "phone": ("no_answer", "left_message", "wrong_contact"),
    "text": ("left_message",),
    "email": ("left_message",),
    "mail": ("left_message", "wrong_contact"),
    "in_person": ("not_found",),
    "telehealth": ("no_answer",),
}

# Scenarios every seed with enough referrals has, so the demo shows each state and each role's list is full.
# to_focus: the demo CS provider receives it (False: another provider does); from_kind: the demo organization
# of
# that kind sent it; age: days before the reference date it was received.
_FORCED: tuple[dict[str, Any], ...] = (
    # the demo CS provider's intake queue: new referrals from the demo hospital, ECM provider and other entity
    {
        "channel": Channel.PORTAL,
        "status": "pending",
        "to_focus": True,
        "from_kind": "hospital",
        "age": (0.2, 3),
    },
    {
        "channel": Channel.PORTAL,
        "status": "pending",
        "to_focus": True,
        "from_kind": "ecm_provider",
        "age": (0.5, 5),
    },
    {"channel": Channel.API, "status": "pending", "to_focus": True, "from_kind": "hospital", "age": (1, 6)},
    {"channel": Channel.PORTAL, "status": "pending", "to_focus": True, "from_kind": "other", "age": (1, 8)},
    {"channel": Channel.SELF_REFERRAL, "status": "pending", "to_focus": True, "age": (0.5, 4)},
    {"channel": Channel.FAX, "status": "pending", "to_focus": True, "age": (0.5, 3), "cin": False},
    # its outreach worklist: one short of rule O3, one that met it and is still trying
    {"channel": Channel.PHONE, "status": "accepted", "to_focus": True, "o3": False, "age": (8, 20)},
    {"channel": Channel.PLAN_ASSIGNMENT, "status": "accepted", "to_focus": True, "o3": True, "age": (19, 26)},
    {"channel": Channel.EMAIL, "status": "needs_member_action", "to_focus": True, "age": (6, 20)},
    {
        "channel": Channel.PORTAL,
        "status": "accepted",
        "to_focus": True,
        "from_kind": "hospital",
        "o3": False,
        "age": (2, 10),
    },
    # the rest of the loop at the demo provider
    {
        "channel": Channel.PORTAL,
        "status": "eligible",
        "to_focus": True,
        "from_kind": "ecm_provider",
        "age": (10, 25),
    },
    {
        "channel": Channel.PORTAL,
        "status": "got_help",
        "to_focus": True,
        "from_kind": "hospital",
        "age": (60, 200),
    },
    {
        "channel": Channel.API,
        "status": "got_help",
        "to_focus": True,
        "from_kind": "ecm_provider",
        "age": (90, 250),
    },
    {
        "channel": Channel.PORTAL,
        "status": "not_eligible",
        "to_focus": True,
        "from_kind": "other",
        "age": (30, 120),
    },
    {"channel": Channel.CS_TO_CS, "status": "no_longer_interested", "to_focus": True, "age": (40, 150)},
    {"channel": Channel.PLAN_ASSIGNMENT, "status": "unable_to_reach", "to_focus": True, "age": (45, 160)},
    {
        "channel": Channel.PORTAL,
        "status": "referred_elsewhere",
        "to_focus": True,
        "from_kind": "hospital",
        "age": (70, 90),
    },
    {"channel": Channel.FAX, "status": "closed", "to_focus": True, "age": (30, 100)},
    {"channel": Channel.PHONE, "status": "no_capacity", "to_focus": True, "age": (20, 60)},
    # sent by the demo referrers to other providers
    {
        "channel": Channel.PORTAL,
        "status": "no_capacity",
        "to_focus": False,
        "from_kind": "hospital",
        "age": (20, 80),
    },
    {
        "channel": Channel.PORTAL,
        "status": "accepted",
        "to_focus": False,
        "from_kind": "other",
        "age": (3, 15),
    },
    # the demo CS provider refers on, to another CS provider (R7) and to ECM (R8)
    {"special": "onward", "channel": Channel.CS_TO_CS, "status": "pending", "age": (1, 10)},
    {"special": "ecm", "status": "unable_to_process", "age": (5, 40)},
    {"special": "ecm", "status": "pending", "age": (1, 6)},
    # referrals left to the demo plan to assign
    {
        "special": "unassigned",
        "channel": Channel.PORTAL,
        "status": "pending",
        "from_kind": "hospital",
        "age": (0.5, 4),
    },
    {"special": "unassigned", "channel": Channel.SELF_REFERRAL, "status": "pending", "age": (1, 6)},
    # a second referral for a member and service already open at the demo provider, flagged
    {"special": "duplicate", "status": "pending", "to_focus": True, "age": (0.3, 3)},
)


class _TooLate(Exception):
    """The history drawn for a referral would run past the reference date; a simpler one is drawn instead."""


@dataclass
class ReferralSeedResult:
    referrals: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # by table (model name)
    phases: dict[str, float] = field(default_factory=dict)
    letters_rendered: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def default_referrals(members: int) -> int:
    return min(REFERRAL_CAP, round(members * REFERRAL_SHARE))


# --- tables ---------------------------------------------------------------------------------------------

_BASE = ("uuid", "created_at", "updated_at")
REFERRALS = base._Table(
    Referral,
    (
        "id",
        *_BASE,
        "number",
        "kind",
        "plan",
        "service",
        "receiving_provider",
        "channel",
        "referrer_kind",
        "referring_organization",
        "referrer_name",
        "referrer_phone",
        "referrer_email",
        "referrer_relationship",
        "member",
        "member_first_name",
        "member_last_name",
        "member_date_of_birth",
        "member_cin",
        "member_phone",
        "member_email",
        "member_address",
        "member_county",
        "member_language",
        "member_contact_preference",
        "eligibility_information",
        "reason",
        "consent_to_contact",
        "consent_text_version",
        "received_at",
        "status",
        "status_reason",
        "status_changed_at",
        "closed_at",
        "loop_closure_reason",
        "outreach_outcome",
        "outreach_ended_at",
        "duplicate_of",
        "source_referral",
        "version",
    ),
)
EVENTS = base._Table(
    ReferralEvent,
    ("referral", "at", "kind", "actor_label", "organization", "from_status", "to_status", "reason", "detail"),
)
ATTEMPTS = base._Table(
    OutreachAttempt,
    (*_BASE, "referral", "attempted_at", "modality", "outcome", "notes", "telehealth_consent"),
)
CHECKS = base._Table(
    FirstContactCheck,
    (
        *_BASE,
        "referral",
        "member",
        "contact_on",
        "plan_eligible",
        "plan_eligibility_detail",
        "checklist",
        "duplicative",
        "checklist_met",
        "notes",
    ),
)
ENROLLMENTS = base._Table(
    Enrollment,
    (*_BASE, "member", "organization", "service", "referral", "enrolled_on", "ended_on", "end_reason"),
)
DOCUMENTS = base._Table(
    ReferralDocument,
    (*_BASE, "referral", "kind", "file", "original_name", "content_type", "size", "sha256", "description"),
)
Consent = getattr(member_models, "Consent", None)  # rule R4's consent record (members app)
CONSENTS = (
    base._Table(
        Consent,
        (
            *_BASE,
            "member",
            "organization",
            "scopes",
            "scope_detail",
            "recipients",
            "signed_on",
            "expires_on",
            "document",
            "document_name",
            "document_content_type",
            "document_sha256",
            "revoke_reason",
        ),
    )
    if Consent is not None
    else None
)


_TABLES = (REFERRALS, EVENTS, ATTEMPTS, CHECKS, ENROLLMENTS, DOCUMENTS, base.CARE) + (
    (CONSENTS,) if CONSENTS is not None else ()
)
_MATCHED, _LETTER, _DOCUMENT = (
    str(ReferralEvent.Kind.MEMBER_MATCHED),
    str(ReferralEvent.Kind.LETTER),
    str(ReferralEvent.Kind.DOCUMENT),
)


# --- a minimal PDF (fax images and plain letters) ---------------------------------------------------------


def _pdf_text(text: str) -> str:
    """A PDF string literal's content in the Windows-1252 repertoire of the standard fonts (WinAnsiEncoding):
    "Fernández" stays as is, characters beyond it lose their accents or are left out."""
    try:
        text.encode("cp1252")
        kept = text
    except UnicodeEncodeError:
        kept = "".join(
            ch
            if ch.encode("cp1252", "ignore")
            else unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            for ch in text
        )
    return kept.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def minimal_pdf(lines: Sequence[str], *, title: str, when: datetime) -> bytes:
    """A valid one-page PDF showing `lines` in Helvetica: what a fax machine or a plain letter produces, in
    a few hundred bytes and microseconds (WeasyPrint is kept for the letters the demo shows first)."""
    text = "BT /F1 11 Tf 14 TL 72 740 Td " + " ".join(f"({_pdf_text(line)}) '" for line in lines) + " ET"
    length = len(text.encode("cp1252"))
    stamp = when.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        "/Contents 4 0 R >>",
        f"<< /Length {length} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Title ({_pdf_text(title)}) /Producer (cshub seed) /CreationDate ({stamp}) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("cp1252")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode("ascii")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)


# --- the generator ------------------------------------------------------------------------------------


@dataclass
class _Org:
    id: int
    uuid: str
    kind: str
    name: str
    email: str
    phone: str
    address_line: str
    city: str
    zip_code: str
    counties: list[int]  # database ids
    staff: tuple[str, ...] = ()


@dataclass
class _Intake:
    org: _Org
    services: list[int]  # service ids
    service_weights: list[float]
    accepting: bool


@dataclass
class _Slot:
    received: datetime
    order: int
    forced: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Entry:
    """What later referrals (duplicates, onward referrals) need to know about an earlier one."""

    id: int
    number: str
    member: int
    service: int | None
    kind: str
    plan: int
    provider: int | None
    received: datetime
    closed: datetime | None
    status: str
    county: int


class _Ref:
    """One referral while it is generated; its rows are finished once the member's details are read."""

    __slots__ = (
        "assignment_start",
        "channel",
        "check",
        "closed",
        "consent",
        "consent_to_contact",
        "county",
        "duplicate_of",
        "fax",
        "id",
        "info",
        "kind",
        "letter",
        "letter_uuid",
        "loop_closure",
        "matched",
        "member",
        "number",
        "outreach_ended",
        "outreach_outcome",
        "plan",
        "provider",
        "reason",
        "received",
        "referrer_email",
        "referrer_kind",
        "referrer_name",
        "referrer_phone",
        "referrer_relationship",
        "referring",
        "service",
        "source",
        "status",
        "status_changed",
        "status_reason",
        "updated",
        "uuid",
        "version",
    )

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, None)


class _Picker:
    """Weighted choice over a fixed table, with the cumulative weights computed once."""

    def __init__(self, options: Sequence[tuple[Any, float]]) -> None:
        self.values = [str(v) if isinstance(v, str) else v for v, _ in options]
        self.cum = list(itertools.accumulate(w for _, w in options))

    def __call__(self, rand: Callable[[], float]) -> Any:
        return self.values[bisect.bisect_right(self.cum, rand() * self.cum[-1])]


_PICK_CHANNEL = _Picker(_CHANNELS)
_PICK_YOUNG, _PICK_MONTH, _PICK_OLD = _Picker(_STATUS_YOUNG), _Picker(_STATUS_MONTH), _Picker(_STATUS_OLD)
_PICK_SELF = _Picker(_SELF_KINDS)
_PICK_OUTSIDE = _Picker(_OUTSIDE_KINDS)
_PICK_DUPLICATE_CHANNEL = _Picker(
    ((Channel.PORTAL, 5), (Channel.FAX, 2), (Channel.PHONE, 2), (Channel.SELF_REFERRAL, 1), (Channel.API, 2))
)
_PICK_ECM_LATER = _Picker((("accepted", 5), ("closed", 3), ("pending", 1)))


class _Generator:
    def __init__(
        self,
        *,
        seed: int,
        count: int,
        orgs: base._Orgs,
        county_ids: list[int],
        first_member: int,
        members: int,
        first_id: int,
        result: ReferralSeedResult,
    ) -> None:
        self.seed = seed
        self.count = count
        self.rng = random.Random(f"cshub-seed:{seed}:referrals")
        self.rand = self.rng.random
        self.ids = base._UuidStream(self.rng, seed)
        self.result = result
        self.wf = workflow()
        self.next_id = first_id
        self.first_member = first_member
        self.members = members
        self.county_ids = county_ids
        self.plan_ids = [p for p, _prefix in orgs.plans]
        self.plan_cum = list(itertools.accumulate(2.0 if i == 0 else 1.0 for i in range(len(self.plan_ids))))
        self.pg = connection.vendor == "postgresql"
        fake = Faker("en_US")  # referrers, staff and people not in the roster
        fake.seed_instance(seed)
        self.people = [(fake.first_name(), fake.last_name()) for _ in range(300)]
        self._load_orgs(orgs)
        self._load_services()
        self._load_members()
        self.used: set[tuple[int, int]] = set()  # (member, service id or 0 for ECM): one referral each
        self.open_enrollments: set[tuple[int, int, int]] = set()
        self.recent: list[_Entry] = []
        self.elsewhere: list[tuple[datetime, int, _Entry]] = []  # heap by close time: onward candidates
        self.elsewhere_ready: list[_Entry] = []
        self.letters_left = LETTERS_RENDERED
        self.files: list[str] = []  # stored file names (deleted again if the seed fails)
        self.refs: list[_Ref] = []  # the chunk being generated

    # --- reference data ----------------------------------------------------------------------------

    def _load_orgs(self, orgs: base._Orgs) -> None:
        ids = [pk for pk, _ in orgs.plans] + [pk for kind_ids in orgs.by_kind.values() for pk in kind_ids]
        self.orgs: dict[int, _Org] = {}
        rows = Organization.objects.filter(pk__in=ids).values_list(
            "id", "uuid", "kind", "name", "email", "phone", "address_line", "city", "zip_code"
        )
        for pk, uuid, kind, name, email, phone, address, city, zip_code in sorted(rows):
            staff = tuple(" ".join(self.rng.choice(self.people)) for _ in range(3))
            counties = [self.county_ids[c] for c in orgs.counties.get(pk, [])]
            self.orgs[pk] = _Org(
                pk, str(uuid), kind, name, email, phone, address, city, zip_code, counties, staff
            )
        self.by_kind: dict[str, list[_Org]] = defaultdict(list)
        for org in self.orgs.values():
            self.by_kind[org.kind].append(org)
        # The demo's logins belong to the first organization of each kind by name (cshub demo).
        self.focus: dict[str, _Org | None] = {}
        for kind in OrganizationKind.values:
            first = (
                Organization.objects.filter(kind=kind).order_by("name").values_list("id", flat=True).first()
            )
            self.focus[kind] = self.orgs.get(first) if first is not None else None
        self.kind_cum = {
            kind: (orgs, list(itertools.accumulate(self._weights(orgs, kind))))
            for kind, orgs in self.by_kind.items()
        }
        self.cs_orgs = self.by_kind.get(OrganizationKind.CS_PROVIDER, [])
        self.cs_weights = self._weights(self.cs_orgs, OrganizationKind.CS_PROVIDER)

    def _weights(self, orgs: Sequence[_Org], kind: str) -> list[float]:
        focus = self.focus.get(kind)
        return [FOCUS_WEIGHT if focus is not None and o.id == focus.id else 1.0 for o in orgs]

    def _load_services(self) -> None:
        services = list(
            Service.objects.filter(active=True)
            .order_by("sort_order", "key")
            .values_list("id", "key", "name", "eligibility")
        )
        self.services = {pk: (key, name, items or []) for pk, key, name, items in services}
        self.service_by_key = {key: pk for pk, key, _n, _i in services}
        self.service_demand = {pk: float(_SERVICE_DEMAND.get(key, 2)) for pk, key, _n, _i in services}
        duplicates: dict[str, set[int]] = defaultdict(set)
        programs = read_data_csv("care_coordination_programs.csv")
        for row in programs:
            for target in row["duplicates"].split(";"):
                if target.strip() in self.service_by_key:
                    duplicates[row["code"]].add(self.service_by_key[target.strip()])
        self.program_duplicates = dict(duplicates)
        self.program_names = {r["code"]: r["name"] for r in programs}

    def make_intakes(self) -> list[_Intake]:
        """Routing data for every seeded CS provider: services by its name, its counties, and a few full."""
        providers = sorted(self.cs_orgs, key=lambda o: o.id)
        keys = list(self.service_by_key)
        common = [k for k in _COMMON_SERVICES if k in self.service_by_key]
        focus = self.focus.get(OrganizationKind.CS_PROVIDER)
        full_n = 0 if len(providers) < 3 else max(1, round(len(providers) * 0.03))
        candidates = [o for o in providers if focus is None or o.id != focus.id]
        full = {o.id for o in self.rng.sample(candidates, min(full_n, len(candidates)))}
        self.intakes: dict[int, _Intake] = {}
        for org in providers:
            chosen: list[str] = []
            for words, service_keys in _INTAKE_BY_NAME:
                if words in org.name:
                    chosen = [k for k in service_keys if k in self.service_by_key]
                    break
            if not chosen and keys:  # "Bridges Community Services": a few services, the common ones likelier
                want = min(self.rng.choice((2, 3, 3, 4)), len(keys))
                pool = common + common + keys
                while len(chosen) < want:
                    pick = self.rng.choice(pool)
                    if pick not in chosen:
                        chosen.append(pick)
            if focus is not None and org.id == focus.id:
                # The demo's provider logins work here: besides what its name says (it may be a sobering
                # center, which needs no authorization), it takes the common services, so its people see
                # referrals, outreach and authorization requests.
                chosen += [k for k in common if k not in chosen]
            ids = [self.service_by_key[k] for k in chosen]
            self.intakes[org.id] = _Intake(
                org, ids, [self.service_demand[s] for s in ids], org.id not in full
            )
        # who takes which service where
        self.routes: dict[tuple[int, int], list[_Intake]] = defaultdict(list)
        self.routes_in: dict[int, list[tuple[int, _Intake]]] = defaultdict(
            list
        )  # county -> (service, intake)
        for intake in self.intakes.values():
            for service in intake.services:
                for county in intake.org.counties:
                    self.routes[(service, county)].append(intake)
                    self.routes_in[county].append((service, intake))
        self.service_counties = {
            s: sorted({c for (svc, c) in self.routes if svc == s}) for s in self.services
        }
        with_services = [i for i in self.intakes.values() if i.services]
        self.intake_lists: dict[tuple[bool, bool], tuple[list[_Intake], list[float]]] = {}
        for accepting in (True, False):
            for without_focus in (True, False):
                chosen_intakes = [
                    i
                    for i in with_services
                    if (i.accepting or not accepting)
                    and not (without_focus and focus and i.org.id == focus.id)
                ]
                weights = self._weights([i.org for i in chosen_intakes], OrganizationKind.CS_PROVIDER)
                self.intake_lists[(accepting, without_focus)] = (chosen_intakes, weights)
        return list(self.intakes.values())

    def _load_members(self) -> None:
        """Light facts of every seeded member covered today, read once: county, plan, since when, whether an
        email address is on file, homelessness; active ECM assignments and care coordination programs."""
        lo, hi = self.first_member, self.first_member + self.members
        n = self.members
        self.m_plan = array("b", [-1]) * n
        self.m_since = array("i", [0]) * n
        self.m_email = array("b", [0]) * n
        self.m_homeless = array("b", [0]) * n
        self.m_county = array("q", [0]) * n
        by_county: dict[int, list[int]] = defaultdict(list)
        by_plan_county: dict[tuple[int, int], list[int]] = defaultdict(list)
        plan_index = {pk: i for i, pk in enumerate(self.plan_ids)}
        qn = connection.ops.quote_name
        sql = (
            "SELECT m.id, m.county_id, s.plan_id, s.start_date, m.email, m.is_homeless "  # noqa: S608
            f"FROM {qn(Member._meta.db_table)} m JOIN {qn(EligibilitySpan._meta.db_table)} s "
            "ON s.member_id = m.id AND s.end_date IS NULL WHERE m.id >= %s AND m.id < %s ORDER BY m.id"
        )
        step = 200_000
        with connection.cursor() as cursor:
            for start in range(lo, hi, step):
                cursor.execute(sql, [start, min(hi, start + step)])
                for pk, county, plan, since, email, homeless in cursor.fetchall():
                    i = pk - lo
                    if plan not in plan_index or county is None:
                        continue
                    self.m_plan[i] = plan_index[plan]
                    self.m_since[i] = _as_date(since).toordinal()
                    self.m_email[i] = 1 if email else 0
                    self.m_homeless[i] = 1 if homeless else 0
                    self.m_county[i] = county
                    by_county[county].append(pk)
                    by_plan_county[(plan, county)].append(pk)
        self.by_county = dict(by_county)
        self.by_plan_county = dict(by_plan_county)
        self.all_counties = sorted(self.by_county)
        self.ecm: dict[int, tuple[int, int]] = {}  # member -> (ECM provider, start ordinal)
        for member, provider, start in (
            EcmAssignment.objects.filter(member_id__gte=lo, member_id__lt=hi, end_date__isnull=True)
            .order_by("member_id", "start_date")
            .values_list("member_id", "ecm_provider_id", "start_date")
        ):
            self.ecm[member] = (provider, start.toordinal())
        self.ecm_members = sorted(m for m in self.ecm if self.m_plan[m - lo] >= 0)
        self.ecm_by_plan: dict[int, list[int]] = defaultdict(list)
        for m in self.ecm_members:
            self.ecm_by_plan[self.plan_of(m)].append(m)
        self.programs: dict[int, list[tuple[str, int, int | None]]] = defaultdict(list)
        for member, code, start, end in (
            ProgramEnrollment.objects.filter(member_id__gte=lo, member_id__lt=hi)
            .order_by("member_id", "start_date", "program")
            .values_list("member_id", "program", "start_date", "end_date")
        ):
            self.programs[member].append((code, start.toordinal(), end.toordinal() if end else None))

    # --- small draws ------------------------------------------------------------------------------

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.rand()

    def staff(self, org: _Org | None) -> str:
        return org.staff[int(self.rand() * len(org.staff))] if org is not None and org.staff else ""

    def person(self) -> str:
        first, last = self.people[int(self.rand() * len(self.people))]
        return f"{first} {last}"

    def ts(self, value: datetime) -> str:
        """The database form of a UTC timestamp (what base._db_timestamp gives, without its per-call cost)."""
        return value.isoformat(sep=" ") if self.pg else value.replace(tzinfo=None).isoformat(sep=" ")

    def later(self, t: datetime, lo: float, hi: float) -> datetime:
        """A moment lo..hi days after t, in office hours (8:00 to 17:00 Pacific, about); _TooLate if that is
        past the reference date."""
        out = t + timedelta(days=self.uniform(lo, hi), minutes=1)
        if 1 <= out.hour < 16:
            out = out.replace(hour=16 + out.hour % 8)
        if out >= HORIZON:
            raise _TooLate
        return out

    def plan_of(self, member: int) -> int:
        return self.plan_ids[self.m_plan[member - self.first_member]]

    def weighted_service(self, services: Sequence[int]) -> int:
        return self.rng.choices(services, weights=[self.service_demand[s] for s in services])[0]

    # --- slots: when each referral came in ------------------------------------------------------------

    def slots(self) -> list[_Slot]:
        out = []
        forced = _FORCED[: self.count]
        for n, scenario in enumerate(forced):
            lo, hi = scenario["age"]
            out.append(_Slot(HORIZON - timedelta(days=self.uniform(lo, hi)), n, scenario))
        for n in range(len(forced), self.count):
            out.append(_Slot(HORIZON - timedelta(days=self.uniform(0.05, WINDOW_DAYS)), n))
        out.sort(key=lambda s: (s.received, s.order))
        return out

    # --- members and providers --------------------------------------------------------------------

    def member_ok(self, member: int, received: datetime, service: int, *, clean: bool = False) -> bool:
        """Covered since before the referral came in and no referral yet for the service; with `clean`, no
        care coordination program that duplicates the service either (for the fixed scenarios)."""
        i = member - self.first_member
        if (
            self.m_plan[i] < 0
            or self.m_since[i] > received.date().toordinal()
            or (member, service) in self.used
        ):
            return False
        return not (
            clean
            and any(service in self.program_duplicates.get(p[0], ()) for p in self.programs.get(member, ()))
        )

    def pick_member(
        self,
        counties: Sequence[int],
        received: datetime,
        service: int,
        *,
        plan: int | None = None,
        clean: bool = False,
        avoid_ecm: bool = False,
        exhaustive: bool = False,
    ) -> int | None:
        pools = [
            self.by_plan_county.get((plan, c), []) if plan else self.by_county.get(c, []) for c in counties
        ]
        weights = [len(p) for p in pools]
        if not any(weights):
            return None
        for _ in range(12):
            pool = self.rng.choices(pools, weights=weights)[0]
            member = pool[int(self.rand() * len(pool))]
            if self.member_ok(member, received, service, clean=clean) and not (
                avoid_ecm and member in self.ecm
            ):
                return member
        if exhaustive:  # a fixed scenario in counties with few members: any one of them who fits
            for pool in pools:
                start = int(self.rand() * len(pool)) if pool else 0
                for member in pool[start:] + pool[:start]:
                    if self.member_ok(member, received, service, clean=clean) and not (
                        avoid_ecm and member in self.ecm
                    ):
                        return member
        return None

    def choose_intake(self, *, accepting: bool, to_focus: bool | None) -> _Intake | None:
        focus = self.focus.get(OrganizationKind.CS_PROVIDER)
        if to_focus and focus is not None and focus.id in self.intakes and self.intakes[focus.id].services:
            return self.intakes[focus.id]
        intakes, weights = self.intake_lists[(accepting, to_focus is False)]
        return self.rng.choices(intakes, weights=weights)[0] if intakes else None

    def choose_org(self, kinds: Sequence[str], from_kind: str | None = None) -> _Org | None:
        if from_kind and self.focus.get(from_kind) is not None:
            return self.focus[from_kind]
        present = [k for k in kinds if self.by_kind.get(k)]
        if not present:
            return None
        kind = present[int(self.rand() * len(present))]
        orgs, cum = self.kind_cum[kind]
        return orgs[bisect.bisect_right(cum, self.rand() * cum[-1])]

    # --- one referral -----------------------------------------------------------------------------

    def make(self, slot: _Slot, rows: dict[base._Table, list]) -> None:
        forced = slot.forced
        age = (HORIZON - slot.received).total_seconds() / 86400
        special = forced.get("special")
        if not forced:
            r = self.rand()
            if r < 0.025 and age < 60:
                special = "duplicate"
            elif r < 0.04:
                special = "ecm"
            elif r < 0.05 and age < 12:
                special = "unassigned"
        next_id = self.next_id
        for attempt in range(4):
            # a history that runs past the reference date is drawn again, simpler each time: the third try is
            # a
            # plain referral, the fourth a pending one (which always fits)
            local: dict[base._Table, list] = defaultdict(list)
            self.next_id = next_id
            try:
                ref = None
                if attempt < 2 and special == "duplicate":
                    ref = self.make_duplicate(slot, forced, age, local)
                elif attempt < 2 and special == "ecm":
                    ref = self.make_ecm(slot, forced, age, local)
                elif attempt < 2 and special == "unassigned":
                    ref = self.make_unassigned(slot, forced, age, local)
                if ref is None:
                    ref = self.make_regular(slot, forced if attempt < 2 else {}, age, local, simpler=attempt)
            except _TooLate:
                continue
            break
        else:
            raise base.SeedError("seed bug: a pending referral did not fit")
        self.commit(ref, local, rows)

    def new_ref(self, slot: _Slot, kind: str, channel: str) -> _Ref:
        ref = _Ref()
        ref.kind = str(kind)
        ref.channel = str(channel)
        ref.received = slot.received
        ref.status = INITIAL_STATUS
        ref.status_changed = slot.received
        ref.version = 1
        ref.updated = slot.received
        ref.matched = False
        return ref

    def assign_id(self, ref: _Ref) -> None:
        ref.id = self.next_id
        self.next_id += 1
        ref.uuid = self.ids.hex()
        ref.number = f"R-{clock.local(ref.received):%Y}-{ref.id:07d}"

    def use_member(self, ref: _Ref, member: int, service: int) -> None:
        self.used.add((member, service))
        ref.member = member
        ref.county = self.m_county[member - self.first_member]
        ref.plan = self.plan_of(member)

    # history rows ------------------------------------------------------------------------------------

    def event(
        self,
        ref: _Ref,
        local: dict,
        kind: str,
        at: datetime,
        org: _Org | None,
        *,
        label: str | None = None,
        from_status: str = "",
        to_status: str = "",
        reason: str = "",
        detail: dict | str | None = None,
    ) -> None:
        local[EVENTS].append(
            [
                ref,  # the referral's id once the chunk is written
                self.ts(at),
                str(kind),
                self.staff(org) if label is None else label,
                org.id if org is not None else None,
                from_status,
                to_status,
                reason[:300],
                "{}" if detail is None else detail,  # JSON text, or a dict finished with the chunk
            ]
        )
        if at > ref.updated:
            ref.updated = at

    def move(
        self,
        ref: _Ref,
        local: dict,
        to: str,
        at: datetime,
        party: str,
        reason: str = "",
        *,
        system: bool = False,
    ) -> None:
        """A status change along the transition table, by a party the table allows (a SeedError otherwise: the
        generator must never write a move the workflow forbids)."""
        transition = self.wf.transition(ref.status, to)
        if transition is None or party not in transition.parties:
            raise base.SeedError(f"seed bug: {ref.status} -> {to} by {party} is not in the workflow table")
        if transition.reason_required and not reason:
            raise base.SeedError(f"seed bug: {ref.status} -> {to} needs a reason")
        org = None if system else self.party_org(ref, party)
        label = "" if system else None
        self.event(
            ref,
            local,
            ReferralEvent.Kind.STATUS,
            at,
            org,
            label=label,
            from_status=ref.status,
            to_status=to,
            reason=reason,
        )
        ref.status = to
        ref.status_reason = reason[:300]
        ref.status_changed = at
        ref.version += 1
        status = self.wf.status(to)
        if status.closed:
            ref.closed = at
            ref.loop_closure = status.loop_closure

    def party_org(self, ref: _Ref, party: str) -> _Org | None:
        if party == "provider":
            return self.orgs.get(ref.provider)
        if party == "plan":
            return self.orgs.get(ref.plan)
        return self.orgs.get(ref.referring)

    def care(self, ref: _Ref, local: dict, org: int | None, reason: str, at: datetime) -> None:
        """The care relationship a referral gives a provider (what lets it see the member)."""
        if ref.member is None or org is None or self.orgs[org].kind == OrganizationKind.PLAN:
            return
        ts = self.ts(at)
        local[base.CARE].append(
            [self.ids.hex(), ts, ts, ref.member, org, reason, ref, clock.local(at).date().isoformat(), None]
        )

    def created(self, ref: _Ref, local: dict, creator: _Org | None) -> None:
        """What referral_create writes: the CREATED event, the fax image, the care relationships."""
        label = "" if creator is None else None
        detail = {"channel": ref.channel, "referrer_kind": ref.referrer_kind}
        self.event(
            ref,
            local,
            ReferralEvent.Kind.CREATED,
            ref.received,
            creator,
            label=label,
            to_status=INITIAL_STATUS,
            detail=detail,
        )
        if ref.channel == Channel.FAX:
            ref.fax = True
            self.event(
                ref,
                local,
                ReferralEvent.Kind.DOCUMENT,
                ref.received,
                creator,
                label=label,
                detail={"kind": "fax", "name": "__fax__"},
            )
        if ref.matched:
            reason = "outreach_assignment" if ref.channel == Channel.PLAN_ASSIGNMENT else "referral_received"
            self.care(ref, local, ref.provider, reason, ref.received)
            self.care(ref, local, ref.referring, "referral_made", ref.received)

    def match(self, ref: _Ref, local: dict, at: datetime) -> None:
        """referral_match_member: the provider finds the member in the roster by CIN and date of birth."""
        ref.matched = True
        self.event(
            ref,
            local,
            ReferralEvent.Kind.MEMBER_MATCHED,
            at,
            self.orgs.get(ref.provider),
            detail={"cin": "__cin__"},
        )
        self.care(ref, local, ref.provider, "referral_received", at)
        self.care(ref, local, ref.referring, "referral_made", at)

    def attempts(
        self, ref: _Ref, local: dict, t: datetime, n: int, *, last: str | None = None, o3: bool = False
    ) -> datetime:
        """n outreach attempts after t (rule O1); `last` is the final one's outcome (else all missed). With
        `o3` all fall within 27 days of receipt and use at least three modalities (rule O3 met). The first
        attempt on a pending referral accepts it (outreach_attempt_record). Returns the last event's time."""
        if n <= 0:
            return t
        i = ref.member - self.first_member if ref.member is not None else -1
        has_email = i >= 0 and self.m_email[i]
        homeless = i >= 0 and self.m_homeless[i]
        options = [
            (m, w * (2.5 if homeless and m == "in_person" else 1.0))
            for m, w in _MODALITIES
            if (m != "email" or has_email) and not (homeless and m == "mail")
        ]
        values, weights = [m for m, _ in options], [w for _, w in options]
        modalities = self.rng.choices(values, weights=weights, k=n)
        if last in ("reached", "scheduled", "declined") and modalities[-1] in ("mail", "email", "text"):
            modalities[-1] = "in_person" if homeless else "phone"
        if o3:
            missing = [m for m in values if m not in modalities]
            self.rng.shuffle(missing)
            while len(set(modalities)) < self.wf.outreach.min_modalities and missing:
                modalities[int(self.rand() * (n - 1 if last else n))] = missing.pop()
            start = (t - ref.received).total_seconds() / 86400
            end = min(27.0, (HORIZON - ref.received).total_seconds() / 86400 - 0.7)
            if end - start < 0.3 * n:
                raise _TooLate
            times: list[datetime] = []
            for offset in sorted(self.uniform(start + 0.05, end) for _ in range(n)):
                at = ref.received + timedelta(days=offset)
                if 1 <= at.hour < 16:
                    at = at.replace(hour=16 + at.hour % 8)
                times.append(max(at, (times[-1] if times else t) + timedelta(minutes=20)))
            if times[-1] >= HORIZON - timedelta(hours=2):
                raise _TooLate
        else:
            times = []
            cursor = t
            for k in range(n):
                cursor = self.later(cursor, 0.05, 3.0) if k == 0 else self.later(cursor, 0.5, 5.0)
                times.append(cursor)
        recorded = t
        provider = self.orgs.get(ref.provider)
        for k, (at, modality) in enumerate(zip(times, modalities, strict=True)):
            misses = _MISSES[modality]
            outcome = last if (last and k == n - 1) else misses[int(self.rand() * len(misses))]
            notes = _NOTES[outcome]
            ts = self.ts(at)
            local[ATTEMPTS].append(
                [
                    self.ids.hex(),
                    ts,
                    ts,
                    ref,
                    ts,
                    modality,
                    outcome,
                    notes[int(self.rand() * len(notes))],
                    modality == "telehealth",
                ]
            )
            ts_at = at.isoformat()
            recorded = max(recorded, at + timedelta(minutes=5 + int(self.rand() * 90)))
            if recorded >= HORIZON:
                raise _TooLate
            self.event(
                ref,
                local,
                ReferralEvent.Kind.OUTREACH,
                recorded,
                provider,
                detail=f'{{"modality": "{modality}", "outcome": "{outcome}", "attempted_at": "{ts_at}"}}',
            )
            if ref.status == INITIAL_STATUS:
                self.move(ref, local, "accepted", recorded, "provider", "Outreach started")
        return recorded

    def outreach_end(self, ref: _Ref, local: dict, outcome: str, at: datetime, reason: str) -> None:
        """Rule O4: the closing status, then the outcome kept for the CSPRTF (services.outreach_end)."""
        self.move(ref, local, _OUTREACH_END_STATUS[outcome], at, "provider", reason)
        ref.outreach_outcome = outcome
        ref.outreach_ended = at
        ref.version += 1
        self.event(
            ref,
            local,
            ReferralEvent.Kind.OUTREACH_ENDED,
            at,
            self.orgs.get(ref.provider),
            reason=str(Referral.OutreachOutcome(outcome).label),
            detail={"outcome": outcome},
        )

    def duplicative(self, ref: _Ref, on: date) -> list[dict]:
        """Rule A1: care coordination programs duplicating the service, open on the day of contact."""
        found = []
        day = on.toordinal()
        for code, start, end in self.programs.get(ref.member, ()):
            if (
                start <= day
                and (end is None or end >= day)
                and ref.service in self.program_duplicates.get(code, ())
            ):
                name = self.program_names.get(code, code)
                found.append(
                    {
                        "kind": "program",
                        "description": f"Enrolled in {name} since {date.fromordinal(start):%m/%d/%Y}",
                    }
                )
        return found

    def first_contact(
        self, ref: _Ref, local: dict, contact: datetime, *, fail: bool
    ) -> tuple[datetime, bool]:
        """Rule A1 at first contact: plan eligibility (the member is covered: it was drawn so), the service's
        checklist with a result per item, duplicative programs. Returns when it was recorded and whether it
        passed; the row is finished later with the member's plan ID."""
        if not ref.matched:
            self.match(ref, local, self.later(contact, 0.0, 0.3))
        at = self.later(max(contact, ref.updated), 0.0, 1.0)
        on = clock.local(contact).date()
        duplicative = self.duplicative(ref, on)
        items = self.services[ref.service][2]
        kinds = [item.get("kind", "all") for item in items]
        results = [
            "not_met"
            if k == "exclusion"
            else "met"
            if k == "all"
            else ("met" if self.rand() < 0.6 else "unknown")
            for k in kinds
        ]
        anys = [k for k, kind in enumerate(kinds) if kind == "any"]
        if anys and "met" not in [results[k] for k in anys]:
            results[anys[0]] = "met"
        if fail and not duplicative:
            alls = [k for k, kind in enumerate(kinds) if kind == "all"]
            exclusions = [k for k, kind in enumerate(kinds) if kind == "exclusion"]
            if alls:
                results[alls[int(self.rand() * len(alls))]] = "not_met"
            elif anys:
                for k in anys:
                    results[k] = "not_met"
            elif exclusions:
                results[exclusions[0]] = "met"
        met = checklist_evaluate(items, results)
        passed = met and not duplicative
        ref.check = (at, on, items, results, met, duplicative)
        self.event(
            ref,
            local,
            ReferralEvent.Kind.FIRST_CONTACT,
            at,
            self.orgs.get(ref.provider),
            reason="Passed" if passed else "Did not pass",
            detail={"plan_eligible": True, "checklist_met": met, "duplicative": len(duplicative)},
        )
        return at, passed

    def enroll(self, ref: _Ref, local: dict, t: datetime) -> datetime:
        """Rules R4, M2: the member's consent on file with the provider, then the enrollment."""
        consent_at = self.later(t, 0.0, 4.0)
        enrolled_at = self.later(consent_at, 0.0, 6.0)
        ref.consent = consent_at
        enrolled_on = clock.local(enrolled_at).date()
        key = (ref.member, ref.service, ref.provider)
        if key in self.open_enrollments:  # cannot happen: one referral per member and service
            raise base.SeedError("seed bug: a second open enrollment for one member, service and provider")
        ended = None
        if self.rand() < 0.35:
            end_at = enrolled_at + timedelta(days=self.uniform(30, 200))
            if end_at < HORIZON:
                ended = clock.local(end_at).date()
        if ended is None:
            self.open_enrollments.add(key)
        ts = self.ts(enrolled_at)
        local[ENROLLMENTS].append(
            [
                self.ids.hex(),
                ts,
                ts,
                ref.member,
                ref.provider,
                ref.service,
                ref,
                enrolled_on.isoformat(),
                ended.isoformat() if ended else None,
                "Service completed" if ended else "",
            ]
        )
        ref.outreach_outcome = str(Referral.OutreachOutcome.ENGAGED)
        ref.outreach_ended = ref.outreach_ended or enrolled_at
        ref.version += 1
        self.event(
            ref,
            local,
            ReferralEvent.Kind.ENROLLED,
            enrolled_at,
            self.orgs.get(ref.provider),
            detail={"enrolled_on": enrolled_on.isoformat()},
        )
        return enrolled_at

    # the referrer ---------------------------------------------------------------------------------

    def status_for(self, age: float) -> str:
        picker = _PICK_YOUNG if age < 3 else _PICK_MONTH if age < 30 else _PICK_OLD
        status = picker(self.rand)
        if status == "got_help" and age < 10:
            return "eligible"
        if status == "unable_to_reach" and age < 8:
            return "accepted"
        return status

    def referrer(self, ref: _Ref, org: _Org | None) -> None:
        """Who referred, as the referral keeps it (rule R1)."""
        if org is not None:
            ref.referring = org.id
            if org.kind == OrganizationKind.PLAN:
                ref.referrer_kind = str(ReferrerKind.PLAN)
                ref.referrer_name = f"{org.name} care management"
            else:
                ref.referrer_kind = str(_REFERRER_KIND_OF_ORG[org.kind])
                ref.referrer_name = self.staff(org)
            ref.referrer_phone = org.phone
            slug = (
                base._ascii_slug(ref.referrer_name.split(" ")[0])
                + "."
                + base._ascii_slug(ref.referrer_name.split(" ")[-1])
            )
            ref.referrer_email = f"{slug}@{org.email.split('@')[1]}" if "@" in org.email else ""
            ref.referrer_relationship = ""
            return
        ref.referring = None
        picker = _PICK_SELF if ref.channel == Channel.SELF_REFERRAL else _PICK_OUTSIDE
        ref.referrer_kind = picker(self.rand)
        ref.referrer_name = "" if ref.referrer_kind == ReferrerKind.MEMBER else self.person()
        options = _RELATIONSHIPS.get(ref.referrer_kind, ("Self",))
        ref.referrer_relationship = options[int(self.rand() * len(options))]
        area = _AREA_CODES[int(self.rand() * len(_AREA_CODES))]
        ref.referrer_phone = f"{area}55501{int(self.rand() * 100):02d}"
        wants_email = ref.channel == Channel.EMAIL or (
            ref.channel == Channel.SELF_REFERRAL and self.rand() < 0.4
        )
        name = ref.referrer_name or self.person()
        ref.referrer_email = (
            f"{base._ascii_slug(name)}{int(self.rand() * 100)}@example.com" if wants_email else ""
        )

    def texts(self, ref: _Ref) -> None:
        if ref.kind == Referral.Kind.ECM:
            options = _ECM_REASONS
        else:
            options = _REASONS.get(self.services[ref.service][0]) or _GENERIC_REASON
        ref.info, ref.reason = options[int(self.rand() * len(options))]

    # the kinds of referral -------------------------------------------------------------------------------

    def make_regular(self, slot: _Slot, forced: dict, age: float, local: dict, *, simpler: int = 0) -> _Ref:
        channel = str(forced.get("channel") or _PICK_CHANNEL(self.rand))
        status = forced.get("status") or self.status_for(age)
        if simpler >= 3 or (simpler == 2 and status != "pending"):
            status = "pending" if simpler >= 3 or age < 1 else "accepted"
        ref = self.new_ref(slot, Referral.Kind.COMMUNITY_SUPPORT, channel)
        source = self.onward_source(slot, forced) if channel == Channel.CS_TO_CS else None
        intake = member = None
        if source is not None:
            intake, service = self.onward_destination(source, slot)
            if intake is None:
                source = None
            else:
                member, ref.service = source.member, service
        if source is None:
            clean = bool(forced)
            for _ in range(4):
                intake = self.choose_intake(
                    accepting=channel in _ACCEPTING_ONLY, to_focus=forced.get("to_focus")
                )
                if intake is None:
                    break
                ref.service = self.weighted_service(intake.services)
                member = self.pick_member(
                    intake.org.counties, slot.received, ref.service, clean=clean, exhaustive=clean
                )
                if member is not None:
                    break
        if intake is None:  # no CS provider takes referrals: everything is left to the plan
            made = self.make_unassigned(slot, {}, age, local)
            if made is None:
                raise base.SeedError("no seeded member can be referred")
            return made
        ref.provider = intake.org.id
        if member is None:  # someone the roster does not know (yet): the provider can only close it or wait
            return self.make_person(ref, intake, age, local, status if simpler < 3 else "pending", forced)
        self.use_member(ref, member, ref.service)
        if channel == Channel.PLAN_ASSIGNMENT:
            ref.matched = True
        else:
            ref.matched = forced.get("cin", True) and self.rand() < _CIN_GIVEN[channel]
        if channel == Channel.PLAN_ASSIGNMENT:
            creator = self.orgs[ref.plan]
        elif channel == Channel.CS_TO_CS:
            creator = self.orgs[source.provider] if source is not None else None
            if creator is None:
                others = [
                    (o, w) for o, w in zip(self.cs_orgs, self.cs_weights, strict=True) if o.id != ref.provider
                ]
                if others:
                    creator = self.rng.choices([o for o, _ in others], weights=[w for _, w in others])[0]
            if creator is None:
                ref.channel = channel = str(Channel.PORTAL)
                creator = self.choose_org(_PORTAL_KINDS)
            ref.source = source.id if source is not None else None
        elif channel in (Channel.PORTAL, Channel.API):
            creator = self.choose_org(
                _PORTAL_KINDS if channel == Channel.PORTAL else _API_KINDS, forced.get("from_kind")
            )
        else:
            creator = None
        self.referrer(ref, creator)
        if (
            channel in _LOGGED_BY_PROVIDER
        ):  # rule R2: the receiving provider logs what came by fax, phone, email
            creator = self.orgs[ref.provider]
        elif channel == Channel.SELF_REFERRAL:
            creator = None
        ref.consent_to_contact = channel == Channel.SELF_REFERRAL or self.rand() < 0.7
        self.texts(ref)
        self.assign_id(ref)
        t = ref.received
        if not forced and not simpler and channel in _MAY_NAME_NO_PROVIDER and self.rand() < 0.06:
            # the referrer named no provider; the plan assigned one a little later (services.referral_assign)
            ref.provider = None
            self.created(ref, local, creator)
            ref.provider = intake.org.id
            t = self.later(ref.received, 0.05, 2.0)
            self.event(
                ref,
                local,
                ReferralEvent.Kind.ASSIGNED,
                t,
                self.orgs[ref.plan],
                reason=f"Assigned to {intake.org.name}",
                detail={"provider": intake.org.uuid},
            )
            ref.version += 1
            if ref.matched:
                self.care(ref, local, ref.provider, "referral_received", t)
        else:
            self.created(ref, local, creator)
        if source is not None:  # rule R7: the ONWARD step on the referral it came from
            org = self.orgs[source.provider]
            local[EVENTS].append(
                [
                    source.id,
                    self.ts(ref.received),
                    str(ReferralEvent.Kind.ONWARD),
                    self.staff(org),
                    org.id,
                    "",
                    "",
                    f"Referred on as {ref.number}",
                    {"onward": ref.number},
                ]
            )
        self.flow(ref, local, t, status, forced, age)
        return ref

    def flow(
        self,
        ref: _Ref,
        local: dict,
        t: datetime,
        status: str,
        forced: dict,
        age: float,
        *,
        person: bool = False,
    ) -> None:
        """The referral's path from pending to `status`, along the transition table."""
        rand = self.rand
        if status == "pending":
            if not ref.matched and ref.member is not None and rand() < 0.3:
                with contextlib.suppress(_TooLate):  # too late to match: it stays unmatched, nothing written
                    self.match(ref, local, self.later(t, 0.02, 1.0))
            return
        if status in _PENDING_EXITS and rand() < (0.6 if status == "no_capacity" else 0.45):
            self.close_open(ref, local, status, self.later(t, 0.05, 4.0))
            return
        direct = rand() < 0.2 and status != "unable_to_reach"  # accepted by hand, before any attempt
        if direct:
            t = self.later(t, 0.05, 2.0)
            self.move(ref, local, "accepted", t, "provider")
        if status == "accepted":
            o3 = forced.get("o3")
            if o3 is None:
                o3 = age >= 7 and rand() < 0.3
            n = self.rng.randint(5, 7) if o3 else self.rng.randint(0 if direct else 1, 4)
            last = "scheduled" if (not o3 and rand() < 0.2) else None
            self.attempts(ref, local, t, n, o3=o3, last=last)
            return
        if status == "unable_to_reach":
            t = self.attempts(ref, local, t, self.rng.randint(5, 8), o3=True)
            at = self.later(t, 0.1, 4.0)
            day_30 = ref.received + timedelta(days=30 + self.uniform(0, 4))
            if rand() < 0.4 and at < day_30 < HORIZON:
                at = day_30  # many providers close on day 30
            self.outreach_end(
                ref, local, "unreachable", at, "Unsuccessful engagement after the outreach rule was met"
            )
            return
        if status == "no_longer_interested" and (person or rand() < 0.75):
            declined = rand() < 0.7
            t = self.attempts(
                ref, local, t, self.rng.randint(1, 4), last="declined" if declined else "reached"
            )
            reason = "Member declined" if declined else "Member disengaged repeatedly"
            self.outreach_end(
                ref, local, "declined" if declined else "disengaged", self.later(t, 0.0, 2.0), reason
            )
            return
        if status in ("no_capacity", "referred_elsewhere", "closed") or (
            status == "not_eligible" and rand() < 0.3
        ):
            t = self.attempts(ref, local, t, self.rng.randint(0 if direct else 1, 2))
            at = self.later(t, 0.05, 5.0)
            if status == "not_eligible" and rand() < 0.5:
                self.outreach_end(ref, local, "exclusion", at, "Meets an exclusion criterion")
            else:
                self.close_open(ref, local, status, at)
            return
        # reach the member, maybe wait on them, then check eligibility at first contact (rule A1)
        t = self.attempts(
            ref, local, t, self.rng.randint(1, 4), last="reached" if rand() < 0.7 else "scheduled"
        )
        contact = t
        if status == "needs_member_action" or rand() < 0.12:
            t = self.later(t, 0.0, 1.0)
            reasons = self.wf.reasons["needs_member_action"]
            self.move(ref, local, "needs_member_action", t, "provider", reasons[int(rand() * len(reasons))])
            if status == "needs_member_action":
                return
            t = self.later(t, 1.0, 10.0)
            self.move(ref, local, "accepted", t, "provider")
        t, passed = self.first_contact(ref, local, max(contact, t), fail=status == "not_eligible")
        if not passed:
            reason = (
                "Receiving a duplicative service"
                if ref.check[5]
                else "Does not meet the service's eligibility criteria"
            )
            self.move(ref, local, "not_eligible", self.later(t, 0.0, 1.0), "provider", reason)
            return
        t = self.later(t, 0.0, 1.0)
        self.move(ref, local, "eligible", t, "provider")
        if status == "eligible":
            if rand() < 0.5:
                self.enroll(ref, local, t)
            return
        if status == "no_longer_interested":
            self.move(
                ref, local, "no_longer_interested", self.later(t, 1.0, 20.0), "provider", "Member declined"
            )
            return
        t = self.enroll(ref, local, t)
        self.move(ref, local, "got_help", self.later(t, 3.0, 40.0), "provider")

    def close_open(self, ref: _Ref, local: dict, status: str, at: datetime) -> None:
        """Close with one of the workflow file's reasons; the referrer withdraws, the provider does the rest
        (the plan when no provider is assigned)."""
        reasons = [r for r in self.wf.reasons.get(status, ()) if r != "Duplicate referral"] or ["Closed"]
        reason = reasons[int(self.rand() * len(reasons))]
        if (
            reason == "Withdrawn by the referrer"
            and ref.referring
            and self.orgs[ref.referring].kind != "plan"
        ):
            party = "referrer"
        else:
            party = "provider" if ref.provider is not None else "plan"
        self.move(ref, local, status, at, party, reason)

    def make_person(
        self, ref: _Ref, intake: _Intake, age: float, local: dict, status: str, forced: dict
    ) -> _Ref:
        """A referral for someone the roster does not know (not a member, or not yet): it stays unmatched, so
        no eligibility check or enrollment; the provider reaches out, closes it or finds them not eligible."""
        ref.county = (
            intake.org.counties[int(self.rand() * len(intake.org.counties))] if intake.org.counties else None
        )
        ref.plan = self.plan_ids[bisect.bisect_right(self.plan_cum, self.rand() * self.plan_cum[-1])]
        if ref.channel in (Channel.PLAN_ASSIGNMENT, Channel.CS_TO_CS):
            ref.channel = str(Channel.PHONE)
        creator = self.choose_org(_API_KINDS) if ref.channel in (Channel.PORTAL, Channel.API) else None
        self.referrer(ref, creator)
        if ref.channel in _LOGGED_BY_PROVIDER:
            creator = self.orgs[ref.provider]
        ref.consent_to_contact = ref.channel == Channel.SELF_REFERRAL
        self.texts(ref)
        self.assign_id(ref)
        self.created(ref, local, creator)
        if status == "pending":
            return ref
        if status in _NEEDS_CONTACT:  # no eligibility check without a roster member: still reaching out
            status = "accepted" if self.rand() < 0.7 else "needs_member_action"
        if status == "not_eligible" or (self.wf.status(status).closed and self.rand() < 0.3):
            at = self.later(ref.received, 0.1, 5.0)
            self.move(
                ref,
                local,
                "not_eligible",
                at,
                "provider",
                "Not eligible with the plan on the date of contact",
            )
            return ref
        self.flow(ref, local, ref.received, status, forced, age, person=True)
        return ref

    def make_unassigned(self, slot: _Slot, forced: dict, age: float, local: dict) -> _Ref | None:
        """A referral that named no provider: waiting for the plan to assign one (no wrong door, rule R1)."""
        channel = forced.get("channel") or _UNASSIGNED_CHANNELS[int(self.rand() * len(_UNASSIGNED_CHANNELS))]
        ref = self.new_ref(slot, Referral.Kind.COMMUNITY_SUPPORT, channel)
        services = list(self.services)
        if not services:
            return None
        ref.service = self.weighted_service(services)
        plan = self.focus.get(OrganizationKind.PLAN) if forced else None
        counties = self.service_counties.get(ref.service) or self.all_counties
        member = self.pick_member(
            counties, slot.received, ref.service, plan=plan.id if plan else None, exhaustive=bool(forced)
        )
        for plan_id in (plan.id, None) if plan else (None,):
            if member is None:
                member = self.pick_member(
                    self.all_counties, slot.received, ref.service, plan=plan_id, exhaustive=bool(forced)
                )
        if member is None:
            return None
        self.use_member(ref, member, ref.service)
        ref.matched = True
        creator = (
            None if channel == Channel.SELF_REFERRAL else self.choose_org(_API_KINDS, forced.get("from_kind"))
        )
        self.referrer(ref, creator)
        ref.consent_to_contact = True
        self.texts(ref)
        self.assign_id(ref)
        self.created(ref, local, creator)
        if not forced and age > 2 and self.rand() < 0.3:
            self.close_open(ref, local, "closed", self.later(ref.received, 0.5, 10.0))
        return ref

    def make_ecm(self, slot: _Slot, forced: dict, age: float, local: dict) -> _Ref | None:
        """Rule R8: a CS provider refers a member to ECM; if another ECM provider already has the member, the
        referral is "unable to process" at once and a letter goes to the referring provider."""
        want_assigned = forced.get("status") == "unable_to_process" or (not forced and self.rand() < 0.7)
        plan = self.focus.get(OrganizationKind.PLAN) if forced else None
        day = slot.received.date().toordinal()
        member = None
        if want_assigned:
            pool = (self.ecm_by_plan.get(plan.id) if plan else None) or self.ecm_members
            for _ in range(20 if pool else 0):
                m = pool[int(self.rand() * len(pool))]
                if self.member_ok(m, slot.received, 0) and self.ecm[m][1] <= day:
                    member = m
                    break
        else:
            member = self.pick_member(
                self.all_counties, slot.received, 0, plan=plan.id if plan else None, avoid_ecm=True
            )
        referring = self.focus.get(OrganizationKind.CS_PROVIDER) if forced else None
        if referring is None and self.cs_orgs:
            referring = self.rng.choices(self.cs_orgs, weights=self.cs_weights)[0]
        if member is None or referring is None:
            return None
        ref = self.new_ref(slot, Referral.Kind.ECM, Channel.CS_TO_CS)
        self.use_member(ref, member, 0)
        ref.matched = True
        self.referrer(ref, referring)
        ref.consent_to_contact = True
        self.texts(ref)
        self.assign_id(ref)
        self.created(ref, local, referring)
        assignment = self.ecm.get(member)
        if assignment is not None and assignment[0] != referring.id and assignment[1] <= day:
            self.move(
                ref,
                local,
                "unable_to_process",
                ref.received,
                "plan",
                "Member already assigned to another ECM provider",
                system=True,
            )
            ref.letter = True
            ref.assignment_start = date.fromordinal(assignment[1])
            self.event(
                ref,
                local,
                ReferralEvent.Kind.LETTER,
                ref.received,
                None,
                label="",
                reason="Unable to process letter",
                detail={"document": "__letter__"},
            )
            return ref
        status = forced.get("status") or ("pending" if age < 7 else _PICK_ECM_LATER(self.rand))
        if status == "accepted":
            self.move(ref, local, "accepted", self.later(ref.received, 0.1, 5.0), "plan")
        elif status == "closed":
            self.move(
                ref,
                local,
                "closed",
                self.later(ref.received, 0.5, 20.0),
                "plan",
                "Member no longer enrolled with the plan",
            )
        return ref

    def make_duplicate(self, slot: _Slot, forced: dict, age: float, local: dict) -> _Ref | None:
        """A second referral for a member and service with one still open: flagged and linked, not refused."""
        earlier = None
        if forced:
            focus = self.focus.get(OrganizationKind.CS_PROVIDER)
            for entry in reversed(self.recent):
                if (
                    entry.kind == "cs"
                    and entry.closed is None
                    and entry.provider is not None
                    and focus is not None
                    and entry.provider == focus.id
                ):
                    earlier = entry
                    break
        else:
            size = min(5000, len(self.recent))
            for _ in range(min(20, size)):
                entry = self.recent[len(self.recent) - 1 - int(self.rand() * size)]
                if (
                    entry.kind == "cs"
                    and entry.provider is not None
                    and (entry.closed is None or entry.closed > slot.received)
                ):
                    earlier = entry
                    break
        if earlier is None:
            return None
        channel = forced.get("channel") or _PICK_DUPLICATE_CHANNEL(self.rand)
        ref = self.new_ref(slot, Referral.Kind.COMMUNITY_SUPPORT, channel)
        ref.member, ref.service, ref.county, ref.plan = (
            earlier.member,
            earlier.service,
            earlier.county,
            earlier.plan,
        )
        ref.matched = True
        ref.provider = earlier.provider
        if not forced and self.rand() < 0.3:  # sent to another provider of the service in the county
            others = [i for i in self.routes.get((ref.service, ref.county), []) if i.accepting]
            if others:
                ref.provider = others[int(self.rand() * len(others))].org.id
        if channel in _ACCEPTING_ONLY and not self.intakes[ref.provider].accepting:
            ref.channel = channel = str(Channel.PHONE)
        creator = self.choose_org(_PORTAL_KINDS) if channel in (Channel.PORTAL, Channel.API) else None
        self.referrer(ref, creator)
        if channel in _LOGGED_BY_PROVIDER:
            creator = self.orgs[ref.provider]
        ref.consent_to_contact = True
        self.texts(ref)
        self.assign_id(ref)
        ref.duplicate_of = earlier.id
        self.created(ref, local, creator)
        self.event(
            ref,
            local,
            ReferralEvent.Kind.DUPLICATE,
            ref.received,
            creator,
            label="" if creator is None else None,
            reason=f"The member already has open referral {earlier.number} for this service.",
            detail={"duplicate_of": earlier.number},
        )
        if not forced.get("status") and age > 1 and self.rand() < 0.6:
            self.move(
                ref,
                local,
                "closed",
                self.later(ref.received, 0.05, min(4.0, age / 2)),
                "provider",
                "Duplicate referral",
            )
        return ref

    def onward_source(self, slot: _Slot, forced: dict) -> _Entry | None:
        """Rule R7: an earlier referral whose provider now refers the member on: first those it closed as
        referred elsewhere, else another of its referrals (for a different service)."""
        if forced.get("special") == "onward":
            focus = self.focus.get(OrganizationKind.CS_PROVIDER)
            for entry in reversed(self.recent):
                if entry.kind == "cs" and focus is not None and entry.provider == focus.id:
                    return entry
            return None
        while self.elsewhere and self.elsewhere[0][0] <= slot.received:
            self.elsewhere_ready.append(heapq.heappop(self.elsewhere)[2])
        if self.elsewhere_ready and self.rand() < 0.7:
            k = int(self.rand() * len(self.elsewhere_ready))
            self.elsewhere_ready[k], self.elsewhere_ready[-1] = (
                self.elsewhere_ready[-1],
                self.elsewhere_ready[k],
            )
            return self.elsewhere_ready.pop()
        size = min(5000, len(self.recent))
        for _ in range(min(10, size)):
            entry = self.recent[len(self.recent) - 1 - int(self.rand() * size)]
            if (
                entry.kind == "cs"
                and entry.provider in self.intakes
                and entry.status not in ("pending", "referred_elsewhere")
            ):
                return entry
        return None

    def onward_destination(self, source: _Entry, slot: _Slot) -> tuple[_Intake | None, int]:
        """Another provider for the member: for the same service when the source was closed as referred
        elsewhere (it is no longer open, so this is no duplicate), else for a service the member has no
        referral for."""
        same_ok = (
            source.status == "referred_elsewhere"
            and source.closed is not None
            and source.closed <= slot.received
        )
        options = [
            (service, intake)
            for service, intake in self.routes_in.get(source.county, ())
            if intake.accepting
            and intake.org.id != source.provider
            and (
                (service == source.service and same_ok)
                or (service != source.service and (source.member, service) not in self.used)
            )
        ]
        if not options:
            return None, 0
        service, intake = self.rng.choices(options, weights=[self.service_demand[s] for s, _ in options])[0]
        self.used.add((source.member, service))
        return intake, service

    def commit(self, ref: _Ref, local: dict, rows: dict) -> None:
        """Move the referral's rows into the chunk and remember it for duplicates and onward referrals."""
        self.refs.append(ref)
        for table, items in local.items():
            rows[table].extend(items)
        if ref.member is not None and ref.matched:
            entry = _Entry(
                ref.id,
                ref.number,
                ref.member,
                ref.service,
                ref.kind,
                ref.plan,
                ref.provider,
                ref.received,
                ref.closed,
                ref.status,
                ref.county,
            )
            self.recent.append(entry)
            if ref.status == "referred_elsewhere" and ref.provider is not None:
                heapq.heappush(self.elsewhere, (ref.closed, ref.id, entry))
        self.result.by_status[ref.status] = self.result.by_status.get(ref.status, 0) + 1
        self.result.by_channel[ref.channel] = self.result.by_channel.get(ref.channel, 0) + 1


# --- rows ---------------------------------------------------------------------------------------------


def _as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _member_details(ids: Sequence[int]) -> dict[int, tuple]:
    """What the referrer supplies about the member (rule R3), read for one chunk's members, with the plan
    member id and start of the open eligibility span."""
    out: dict[int, tuple] = {}
    qn = connection.ops.quote_name
    unique = sorted(set(ids))
    with connection.cursor() as cursor:
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                "SELECT m.id, m.cin, m.first_name, m.last_name, m.date_of_birth, m.phone, m.email, "  # noqa: S608
                "m.address_line, m.city, m.zip_code, m.preferred_language, m.contact_preference, "
                f"s.plan_member_id, s.start_date FROM {qn(Member._meta.db_table)} m "
                f"JOIN {qn(EligibilitySpan._meta.db_table)} s ON s.member_id = m.id AND s.end_date IS NULL "
                f"WHERE m.id IN ({marks})",
                batch,
            )
            for row in cursor.fetchall():
                out[row[0]] = row[1:]
    return out


class _Writer:
    """Finishes a chunk's rows (member details, documents) and writes them with the seeder's writers."""

    def __init__(self, gen: _Generator, result: ReferralSeedResult) -> None:
        self.gen = gen
        self.result = result
        # files are saved by a few threads: the storage's work is mostly waiting on the file system
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cshub-seed-files")

    def prepare(self, rows: dict[base._Table, list]) -> list[tuple[base._Table, list[tuple]]]:
        """The chunk's rows, finished: member details read (the only database work of a chunk before it is
        written), documents stored, references to referrals turned into ids."""
        gen = self.gen
        refs, gen.refs = gen.refs, []
        details = _member_details([r.member for r in refs if r.member is not None])
        rows[REFERRALS] = [self.referral_row(ref, details.get(ref.member), rows) for ref in refs]
        cins = {ref.id: details[ref.member][0] for ref in refs if ref.member in details}
        by_id = {ref.id: ref for ref in refs}
        dumps = json.dumps
        for row in rows.get(EVENTS, []):
            if row[0].__class__ is _Ref:
                row[0] = row[0].id
            kind, detail = row[2], row[8]
            if detail.__class__ is str:
                continue
            if kind == _MATCHED:
                detail = {"cin": cins.get(row[0], "")}
            elif kind == _LETTER:
                detail = {"document": _dashed(by_id[row[0]].letter_uuid)}
            elif kind == _DOCUMENT:
                detail = {"kind": "fax", "name": by_id[row[0]].fax}
            row[8] = dumps(detail)
        for table, column in ((ATTEMPTS, 3), (ENROLLMENTS, 6)):
            for row in rows.get(table, []):
                row[column] = row[column].id
        for row in rows.get(base.CARE, []):
            row[6] = _dashed(row[6].uuid)
        for row in rows.get(DOCUMENTS, []):
            row[5] = row[5].result()
            gen.files.append(row[5])
        self.result.referrals += len(refs)
        out = []
        for table in _TABLES:
            items = rows.get(table, [])
            name = table.model.__name__
            self.result.rows[name] = self.result.rows.get(name, 0) + len(items)
            out.append((table, [tuple(r) for r in items]))
        return out

    def referral_row(self, ref: _Ref, member: tuple | None, rows: dict) -> list:
        gen = self.gen
        if member is not None:
            (
                cin,
                first,
                last,
                dob,
                phone,
                email,
                address,
                city,
                zip_code,
                language,
                preference,
                plan_member_id,
                since,
            ) = member
            dob = _as_date(dob)
            address = f"{address}, {city}, CA {zip_code}" if address else ""
        else:  # not in the roster: a name, a date of birth and a phone number
            first, last = gen.people[int(gen.rand() * len(gen.people))]
            dob = date(1945, 1, 1) + timedelta(days=int(gen.rand() * 365 * 60))
            phone = f"{_AREA_CODES[int(gen.rand() * len(_AREA_CODES))]}55501{int(gen.rand() * 100):02d}"
            cin = email = address = plan_member_id = ""
            since, language, preference = None, "en", "phone"
        if ref.referrer_kind == ReferrerKind.MEMBER:
            ref.referrer_name = f"{first} {last}"
        if preference == "email" and not email:
            preference = "phone"
        given_cin = (
            cin if ref.matched else ""
        )  # a fax or a call often leaves it out until the provider matches
        if ref.check is not None:
            at, on, items, results, met, duplicative = ref.check
            ts = gen.ts(at)
            detail = (
                f"Eligible with {gen.orgs[ref.plan].name} on {on:%m/%d/%Y} (member ID {plan_member_id}, "
                f"since {_as_date(since):%m/%d/%Y})"
            )
            checklist = [
                {"text": item.get("text", ""), "kind": item.get("kind", "all"), "result": result, "note": ""}
                for item, result in zip(items, results, strict=True)
            ]
            rows[CHECKS].append(
                (
                    gen.ids.hex(),
                    ts,
                    ts,
                    ref.id,
                    ref.member,
                    on.isoformat(),
                    True,
                    detail[:300],
                    json.dumps(checklist),
                    json.dumps(duplicative),
                    met,
                    "",
                )
            )
        if ref.consent is not None and CONSENTS is not None:
            ts = gen.ts(ref.consent)
            on = clock.local(ref.consent).date()
            recipients = f"{gen.orgs[ref.provider].name}\n{gen.orgs[ref.plan].name}"
            rows[CONSENTS].append(
                (
                    gen.ids.hex(),
                    ts,
                    ts,
                    ref.member,
                    ref.provider,
                    json.dumps(_CONSENT_SCOPES),
                    "",
                    recipients,
                    on.isoformat(),
                    (on + timedelta(days=365)).isoformat(),
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
        when = clock.local(ref.received)
        if ref.fax:
            lines = [
                "FAX - Community Supports referral",
                f"To: {gen.orgs[ref.provider].name}, referral intake",
                f"From: {ref.referrer_name} ({ReferrerKind(ref.referrer_kind).label}), "
                f"phone {ref.referrer_phone}",
                f"Sent: {when:%m/%d/%Y %I:%M %p}",
                "",
                f"Member: {first} {last}    Date of birth: {dob:%m/%d/%Y}"
                + (f"    CIN: {cin}" if given_cin else ""),
                f"Member phone: {phone}",
                f"Service requested: {gen.services[ref.service][1]}",
                f"Reason: {ref.reason}",
                f"Eligibility information: {ref.info}",
            ]
            original = f"fax-{when:%Y%m%d-%H%M}.pdf"
            ref.fax = original
            self.document(
                ref,
                rows,
                "fax",
                minimal_pdf(lines, title=f"Fax {ref.number}", when=ref.received),
                f"{ref.number}-fax.pdf",
                original,
                "Fax received",
            )
        if ref.letter:
            name = f"{ref.number}-unable-to-process.pdf"
            ref.letter_uuid = self.document(
                ref,
                rows,
                "letter",
                self.letter_pdf(ref, first, last, dob, given_cin),
                name,
                name,
                "Unable to process: member already assigned to another ECM provider (rule R8)",
            )
        received = gen.ts(ref.received)
        return [
            ref.id,
            ref.uuid,
            received,
            gen.ts(ref.updated),
            ref.number,
            ref.kind,
            ref.plan,
            ref.service,
            ref.provider,
            ref.channel,
            ref.referrer_kind,
            ref.referring,
            (ref.referrer_name or "")[:200],
            ref.referrer_phone or "",
            ref.referrer_email or "",
            ref.referrer_relationship or "",
            ref.member if ref.matched else None,
            first,
            last,
            dob.isoformat(),
            given_cin,
            phone or "",
            email or "",
            address[:300],
            ref.county,
            language or "en",
            preference or "phone",
            ref.info or "",
            ref.reason or "",
            bool(ref.consent_to_contact),
            SELF_REFERRAL_CONSENT_VERSION if ref.channel == Channel.SELF_REFERRAL else "",
            received,
            ref.status,
            ref.status_reason or "",
            gen.ts(ref.status_changed),
            gen.ts(ref.closed) if ref.closed else None,
            ref.loop_closure or "",
            ref.outreach_outcome or "",
            gen.ts(ref.outreach_ended) if ref.outreach_ended else None,
            ref.duplicate_of,
            ref.source,
            ref.version,
        ]

    def letter_pdf(self, ref: _Ref, first: str, last: str, dob: date, cin: str) -> bytes:
        """Rule R8's letter: through the letter adapter for the first ones, as a plain PDF for the rest."""
        gen = self.gen
        plan = gen.orgs[ref.plan]
        referring = gen.orgs.get(ref.referring)
        when = clock.local(ref.received)
        if gen.letters_left > 0:
            gen.letters_left -= 1
            try:
                from cshub.core.letters import render_letter_pdf  # WeasyPrint: loaded only for these letters

                referral = {
                    "number": ref.number,
                    "received_at": when,
                    "member_first_name": first,
                    "member_last_name": last,
                    "member_date_of_birth": dob,
                    "member_cin": cin,
                }
                context = {
                    "referral": referral,
                    "plan": plan.__dict__,
                    "recipient": referring.__dict__ if referring else None,
                    "recipient_name": ref.referrer_name,
                    "letter_date": when.date(),
                    "assignment_start": ref.assignment_start,
                    "reason": gen.wf.status("unable_to_process").loop_closure,
                }
                progress = logging.getLogger("weasyprint.progress")  # a line per rendering step otherwise
                level = progress.level
                progress.setLevel(logging.WARNING)
                try:
                    pdf = render_letter_pdf(
                        template_name="referrals/letters/unable_to_process", context=context, language="en"
                    )
                finally:
                    progress.setLevel(level)
                self.result.letters_rendered += 1
                return pdf
            except (ImportError, OSError) as exc:  # no letter adapter or no Pango here: the plain letter
                note = f"R8 letters written as plain PDFs: the letter adapter is not available ({exc})"
                if note not in self.result.notes:
                    self.result.notes.append(note)
        lines = [
            plan.name,
            f"{plan.address_line}, {plan.city}, CA {plan.zip_code}",
            "",
            f"{when:%B %d, %Y}",
            "",
            f"To: {ref.referrer_name}" + (f", {referring.name}" if referring else ""),
            f"Re: Referral to Enhanced Care Management {ref.number}: unable to process",
            "",
            f"Member: {first} {last}    Date of birth: {dob:%m/%d/%Y}" + (f"    CIN: {cin}" if cin else ""),
            "We are unable to process this referral because the member is already assigned to another",
            f"ECM provider (since {ref.assignment_start:%B %d, %Y}). A member can be assigned to one ECM",
            f"provider at a time. The member can call {plan.name} to change ECM providers.",
        ]
        return minimal_pdf(lines, title=f"Referral {ref.number}: unable to process", when=ref.received)

    def document(
        self, ref: _Ref, rows: dict, kind: str, pdf: bytes, stored: str, original: str, description: str
    ) -> str:
        """Keep the file in the default storage (as ReferralDocument.file does) and its row; returns its
        uuid."""
        gen = self.gen
        path = f"referrals/{clock.local(ref.received):%Y/%m}/{stored}"
        name = self.pool.submit(default_storage.save, path, ContentFile(pdf))  # the stored name, once saved
        uuid = gen.ids.hex()
        ts = gen.ts(ref.received)
        rows[DOCUMENTS].append(
            [
                uuid,
                ts,
                ts,
                ref.id,
                kind,
                name,
                original,
                "application/pdf",
                len(pdf),
                hashlib.sha256(pdf).hexdigest(),
                description,
            ]
        )
        return uuid


def _dashed(hex32: str) -> str:
    return base._dashed(hex32)


# --- entry point ----------------------------------------------------------------------------------------


def _claim_ids() -> int:
    """The first of the referral ids just above the table's highest id (so the same seed on the same
    database gives the same numbers); the sequence is moved past them so later referrals never collide."""
    table = Referral._meta.db_table
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {qn(table)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {qn(table)}")  # noqa: S608 (quoted table name)
        first = int(cursor.fetchone()[0]) + 1
    return first


def _advance_sequence(last_id: int) -> None:
    if connection.vendor != "postgresql" or last_id < 1:
        return  # SQLite's AUTOINCREMENT follows explicit ids by itself
    table = Referral._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
            " GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), %s))",
            [table, table, last_id],
        )


def _write_intakes(gen: _Generator, intakes: list[_Intake]) -> int:
    ts = base.ORG_CREATED_AT
    rows = []
    for intake in intakes:
        org = intake.org
        fax = f"{org.phone[:3]}55501{(int(org.phone[-2:]) + 50) % 100:02d}" if len(org.phone) == 10 else ""
        rows.append(
            ProviderIntake(
                uuid=gen.ids.uuid(),
                organization_id=org.id,
                accepting=intake.accepting,
                intake_email=f"intake@{org.email.split('@')[1]}" if "@" in org.email else "",
                intake_phone=org.phone,
                intake_fax=fax,
            )
        )
    ProviderIntake.objects.bulk_create(rows)
    ProviderIntake.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=ts, updated_at=ts)
    services = ProviderIntake.services.through
    counties = ProviderIntake.counties.through
    services.objects.bulk_create(
        [
            services(providerintake_id=row.pk, service_id=s)
            for row, i in zip(rows, intakes, strict=True)
            for s in i.services
        ]
    )
    counties.objects.bulk_create(
        [
            counties(providerintake_id=row.pk, county_id=c)
            for row, i in zip(rows, intakes, strict=True)
            for c in i.org.counties
        ]
    )
    return len(rows)


def seed_referrals(
    *,
    seed: int,
    count: int,
    orgs: base._Orgs,
    county_ids: list[int],
    first_member: int,
    members: int,
    stdout: TextIO | None = None,
) -> ReferralSeedResult:
    """Provider intakes and `count` referrals with their history; inside the caller's transaction."""
    started = time.perf_counter()
    result = ReferralSeedResult()
    if not Service.objects.filter(active=True).exists():
        result.notes.append(
            "no referrals: the service catalog is not loaded (run `cshub catalog load` first)"
        )
        return result
    if Consent is None:
        result.notes.append("enrollments written without consent records: cshub.members has no Consent model")
    first_id = _claim_ids()
    gen = _Generator(
        seed=seed,
        count=count,
        orgs=orgs,
        county_ids=county_ids,
        first_member=first_member,
        members=members,
        first_id=first_id,
        result=result,
    )
    intakes = gen.make_intakes()
    result.rows["ProviderIntake"] = _write_intakes(gen, intakes)
    if count <= 0 or members <= 0 or not gen.by_county:
        return result
    writer = _Writer(gen, result)
    slots = gen.slots()
    timings = result.phases
    copy: base._CopyWriter | None = None
    # Millions of small rows and no reference cycles: the cyclic garbage collector would only rescan them.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for start in range(0, len(slots), CHUNK):
            # generate this chunk while the previous one is written (PostgreSQL: COPY from a background
            # thread)
            t = time.perf_counter()
            rows: dict[base._Table, list] = defaultdict(list)
            for slot in slots[start : start + CHUNK]:
                gen.make(slot, rows)
            timings["generate"] = timings.get("generate", 0.0) + time.perf_counter() - t
            t = time.perf_counter()
            if copy is not None:
                copy.close()
                copy = None
            timings["wait for COPY"] = timings.get("wait for COPY", 0.0) + time.perf_counter() - t
            t = time.perf_counter()
            tables = writer.prepare(rows)
            timings["details and documents"] = (
                timings.get("details and documents", 0.0) + time.perf_counter() - t
            )
            t = time.perf_counter()
            if connection.vendor == "postgresql":
                copy = base._CopyWriter(maxsize=0)
                for table, items in tables:
                    copy.write(table, items)
            else:
                inserts = base._InsertWriter()
                for table, items in tables:
                    inserts.write(table, items)
            timings["write"] = timings.get("write", 0.0) + time.perf_counter() - t
            if len(slots) > CHUNK:
                elapsed = time.perf_counter() - started
                base._say(stdout, f"  referrals: {result.referrals:,}/{count:,} ({elapsed:.1f} s)")
        if copy is not None:
            t = time.perf_counter()
            copy.close()
            copy = None
            timings["wait for COPY"] = timings.get("wait for COPY", 0.0) + time.perf_counter() - t
    except BaseException:
        if copy is not None:
            copy.close(abort=True)
        writer.pool.shutdown(wait=True)
        for name in gen.files:  # the rows roll back with the transaction; the files go too
            default_storage.delete(name)
        raise
    finally:
        writer.pool.shutdown(wait=True)
        if gc_was_enabled:
            gc.enable()
    _advance_sequence(gen.next_id - 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in _TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table.db_table)}")
    result.seconds = time.perf_counter() - started
    return result
