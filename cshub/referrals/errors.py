"""Error codes of the referrals app (STYLE 8: one error shape, per-app codes)."""

from __future__ import annotations

REFERRAL_INVALID = "referral_invalid"
TRANSITION_NOT_ALLOWED = "referral_transition_not_allowed"
GUARD_NOT_MET = "referral_guard_not_met"
OUTREACH_RULE_NOT_MET = "outreach_o3_not_met"
OUTREACH_INVALID = "outreach_invalid"
MEMBER_NOT_MATCHED = "referral_member_not_matched"
FIRST_CONTACT_INVALID = "first_contact_invalid"
ENROLLMENT_INVALID = "enrollment_invalid"
ROUTING_INVALID = "referral_routing_invalid"
