from django.urls import path

from cshub.referrals import intake_views, views

app_name = "referrals"

# Work pages: lists, queues, the referral and what is done on it (cshub/referrals/views.py).
urlpatterns = [
    path("", views.referral_list, name="list"),
    path("intake/", views.intake_queue, name="intake_queue"),
    path("outreach/", views.outreach_worklist, name="worklist"),
    path("<uuid:uuid>/", views.referral_detail, name="detail"),
    path("<uuid:uuid>/status/", views.referral_transition, name="transition"),
    path("<uuid:uuid>/outreach/", views.outreach_attempt_add, name="outreach_add"),
    path("<uuid:uuid>/outreach/end/", views.outreach_end, name="outreach_end"),
    path("<uuid:uuid>/member/", views.member_match, name="match_member"),
    path("<uuid:uuid>/first-contact/", views.first_contact_check, name="first_contact"),
    path("<uuid:uuid>/enrollment/", views.enrollment_add, name="enroll"),
    path("<uuid:uuid>/enrollment/end/", views.enrollment_end, name="enrollment_end"),
    path("<uuid:uuid>/documents/", views.document_add, name="document_add"),
    path("<uuid:uuid>/documents/<uuid:document>/", views.document_download, name="document"),
    path("<uuid:uuid>/onward/", views.refer_onward, name="refer_onward"),
    path("<uuid:uuid>/onward/providers/", views.onward_providers, name="onward_providers"),
    path("<uuid:uuid>/assign/", views.plan_assign, name="assign_provider"),
]

# Doors in: the referrer portal, the public self-referral form, fax/phone/email intake, plan assignment,
# and the provider's intake settings (cshub/referrals/intake_views.py).
urlpatterns += [
    path("new/", intake_views.referral_new, name="new"),
    path("new/destinations/", intake_views.destinations, name="destinations"),
    path("self-referral/", intake_views.self_referral, name="self_referral"),
    path("self-referral/received/", intake_views.self_referral_done, name="self_referral_done"),
    path("intake/fax/", intake_views.intake_fax, name="intake_fax"),
    path("intake/log/", intake_views.intake_log, name="intake_log"),
    path("intake/settings/", intake_views.intake_settings, name="intake_settings"),
    path("assign-member/", intake_views.plan_assign_member, name="plan_assign_member"),
]
