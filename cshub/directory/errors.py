"""Error codes of the directory (STYLE 8)."""

LISTING_INVALID = "listing_invalid"
LISTING_NOT_CONTRACTED = "listing_not_contracted"
FILTER_INVALID = "directory_filter_invalid"
