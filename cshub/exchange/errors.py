"""Error codes of the exchange app (STYLE 8)."""

KEY_INVALID = "ssh_key_invalid"
KEY_PRIVATE = "ssh_key_private"
KEY_ALGORITHM = "ssh_key_algorithm"
KEY_TOO_SHORT = "ssh_key_too_short"
KEY_DUPLICATE = "ssh_key_duplicate"
KEY_REVOKED = "ssh_key_revoked"
FILENAME = "filename"
