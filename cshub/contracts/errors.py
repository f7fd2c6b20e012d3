"""Error codes of the contracts app (STYLE 8): the API's `code`, stable for clients."""

CONTRACT_INVALID = "contract_invalid"
CONTRACT_NOT_EDITABLE = "contract_not_editable"  # an executed or terminated contract (rule N6)
CONTRACT_NOT_READY = "contract_not_ready"  # the execute guard (rules N6, N7)
FEE_INVALID = "contract_fee_invalid"
TRAINING_INVALID = "training_invalid"
ATTESTATION_INVALID = "training_attestation_invalid"  # rule N7
