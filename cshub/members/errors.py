"""Error codes of the members app (STYLE 8: one error shape, per-app codes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cshub.core.errors import DomainError, FieldError

if TYPE_CHECKING:
    from cshub.members.models import RosterImport

ROSTER_REJECTED = "roster_rejected"
SEARCH_INVALID = "member_search_invalid"


class RosterRejected(DomainError):
    """A roster file had errors; nothing was written but the rejected `RosterImport` and its error report."""

    def __init__(self, roster_import: RosterImport, errors: list[FieldError], total: int) -> None:
        super().__init__(
            message=f"The roster was rejected: {total} error(s); nothing was changed.",
            code=ROSTER_REJECTED,
            errors=errors,
            status=422,
        )
        self.roster_import = roster_import


# Member documentation (rule M2)
CONSENT_INVALID = "consent_invalid"
ASSESSMENT_INVALID = "assessment_invalid"
SDOH_CODE_INVALID = "sdoh_code_invalid"
SDOH_NEED_INVALID = "sdoh_need_invalid"
GOAL_INVALID = "goal_invalid"
NOTE_INVALID = "member_note_invalid"
EXTERNAL_INFORMATION_INVALID = "external_information_invalid"
TIMELINE_INVALID = "timeline_invalid"
