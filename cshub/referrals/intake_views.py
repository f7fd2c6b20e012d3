"""The doors in (rules R1-R4): referrer portal, public self-referral, fax/phone/email intake, plan
assignment and the provider's intake settings. Parse, call `services.referral_create`, render."""

from __future__ import annotations
