"""Referrals made the way users make them: via `referral_create`, so every test goes through the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cshub.referrals.models import Channel, ReferrerKind
from cshub.referrals.services import MemberDetails, ReferrerDetails, referral_create


def member_details(member: Any = None, **overrides: Any) -> MemberDetails:
    data: dict[str, Any] = {
        "first_name": member.first_name if member else "Rosa",
        "last_name": member.last_name if member else "Delgado",
        "date_of_birth": member.date_of_birth if member else dt.date(1975, 3, 9),
        "cin": member.cin if member else "",
        "phone": "9165550101",
        "county": "Sacramento",
    }
    data.update(overrides)
    return MemberDetails(**data)


def make_referral(
    rw: Any,
    *,
    actor: Any = None,
    member: Any = None,
    service_key: str = "housing_transition_navigation",
    provider: Any = "A",
    channel: str = Channel.PORTAL,
    referrer_kind: str = ReferrerKind.HOSPITAL,
    **overrides: Any,
) -> Any:
    """A portal referral from dana (the hospital) to provider A, for member_a unless told otherwise."""
    member = rw.member_a if member is None else member
    receiving = {"A": rw.provider_a, "B": rw.provider_b, None: None}.get(provider, provider)
    details = overrides.pop("member_details", None) or member_details(member or None)
    return referral_create(
        actor=actor or rw.dana,
        channel=channel,
        plan=overrides.pop("plan", rw.plan),
        member_details=details,
        referrer=overrides.pop("referrer", ReferrerDetails(kind=referrer_kind, name="Dana Discharge")),
        service_key=service_key,
        receiving_provider=receiving,
        **overrides,
    )
