"""Error codes of the authorizations app (STYLE 8): the API's `code`, stable for clients."""

REQUEST_INVALID = "authorization_request_invalid"
NOT_ENROLLED = "authorization_not_enrolled"  # rule A2
DOCUMENTS_MISSING = "authorization_documents_missing"  # rule A6
LIMIT_EXCEEDED = "authorization_limit_exceeded"  # rule A9 / catalog limits
NO_AUTHORIZATION_NEEDED = "authorization_not_required"  # rule G2
NOT_ELIGIBLE = "authorization_member_not_eligible"  # rule A10
STEP_NOT_ALLOWED = "authorization_step_not_allowed"
DECISION_INVALID = "authorization_decision_invalid"
DIAGNOSIS_INVALID = "authorization_diagnosis_invalid"
