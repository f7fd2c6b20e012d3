"""Error codes of the network app (STYLE 8: one error shape, per-app codes)."""

from __future__ import annotations

INTEREST_INVALID = "interest_form_invalid"
INVITE_INVALID = "interest_invite_invalid"
APPLICATION_INVALID = "application_invalid"
APPLICATION_LOCKED = "application_read_only"
APPLICATION_INCOMPLETE = "application_incomplete"
TRANSITION_NOT_ALLOWED = "application_transition_not_allowed"
DECISION_INVALID = "decision_invalid"
GAP_ITEM_INVALID = "gap_item_invalid"
