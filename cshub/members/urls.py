from django.urls import path

from cshub.members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("<uuid:uuid>/", views.member_detail, name="detail"),
    path("import/", views.roster_import, name="import"),
    path("imports/", views.roster_import_list, name="imports"),
    path("imports/<uuid:uuid>/", views.roster_import_detail, name="import_detail"),
    path("imports/<uuid:uuid>/errors.csv", views.roster_import_errors, name="import_errors"),
    # Member documentation (rule M2) and the timeline
    path("<uuid:uuid>/consents/", views.consents, name="consents"),
    path("<uuid:uuid>/consents/<uuid:record>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("<uuid:uuid>/consents/<uuid:record>/document/", views.consent_document, name="consent_document"),
    path("<uuid:uuid>/assessments/", views.assessments, name="assessments"),
    path("<uuid:uuid>/assessments/form/", views.assessment_form, name="assessment_form"),
    path("<uuid:uuid>/assessments/<uuid:record>/", views.assessment_detail, name="assessment_detail"),
    path("<uuid:uuid>/sdoh-needs/", views.sdoh_needs, name="sdoh_needs"),
    path("<uuid:uuid>/sdoh-needs/<uuid:record>/resolve/", views.sdoh_need_resolve, name="sdoh_need_resolve"),
    path("sdoh-codes/", views.sdoh_code_lookup, name="sdoh_code_lookup"),
    path("<uuid:uuid>/goals/", views.goals, name="goals"),
    path("<uuid:uuid>/goals/<uuid:record>/progress/", views.goal_progress, name="goal_progress"),
    path("<uuid:uuid>/notes/", views.notes, name="notes"),
    path("<uuid:uuid>/external-information/", views.external_information, name="external_information"),
    path(
        "<uuid:uuid>/external-information/<uuid:record>/document/",
        views.external_information_document,
        name="external_information_document",
    ),
    path("<uuid:uuid>/timeline/", views.member_timeline, name="timeline"),
]
