"""Error codes of the capacity app (STYLE 8)."""

REPORT_INVALID = "capacity_report_invalid"
REPORT_NOT_EDITABLE = "capacity_report_not_editable"
REPORT_EXISTS = "capacity_report_exists"
REPORT_CONFLICT = "capacity_report_conflict"
