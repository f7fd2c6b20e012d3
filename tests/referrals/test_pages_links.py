"""Every door can be found: the intake queue links the fax and phone/email logs (rule R2) and, for the
provider's leadership, the intake settings; the plan's list links member assignment; the sign-in page links
the public self-referral form (rule R1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_r2_intake_queue_links_the_fax_and_phone_logs_and_settings_for_leadership(client, rw):
    client.force_login(rw.bob)
    html = client.get(reverse("referrals:intake_queue")).content.decode()
    assert reverse("referrals:intake_fax") in html and reverse("referrals:intake_log") in html
    assert reverse("referrals:intake_settings") not in html  # a care coordinator does not set intake
    client.force_login(rw.alice)
    assert (
        reverse("referrals:intake_settings") in client.get(reverse("referrals:intake_queue")).content.decode()
    )


def test_plan_referral_list_links_member_assignment_for_the_plans_referral_staff_only(client, rw):
    client.force_login(rw.um)
    assert reverse("referrals:plan_assign_member") in client.get(reverse("referrals:list")).content.decode()
    client.force_login(rw.plan_users["claims_processor"])
    assert (
        reverse("referrals:plan_assign_member") not in client.get(reverse("referrals:list")).content.decode()
    )


def test_r1_sign_in_page_links_the_self_referral_form(client, db):
    html = client.get(reverse("account_login")).content.decode()
    assert reverse("referrals:self_referral") in html
