from django.urls import path

from cshub.authorizations import views

app_name = "authorizations"

# Pages: cshub/authorizations/views.py (rules G2, A2-A10).
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_new, name="new"),
    path("new/options/", views.request_options, name="options"),
    path("fax/", views.request_fax, name="fax"),
    path("queue/", views.review_queue, name="queue"),
    path("services/", views.service_records, name="service_records"),
    path("timeliness/", views.timeliness, name="timeliness"),
    path("<uuid:uuid>/", views.request_detail, name="detail"),
    path("<uuid:uuid>/take/", views.request_take, name="take"),
    path("<uuid:uuid>/release/", views.request_release, name="release"),
    path("<uuid:uuid>/urgency/", views.request_urgency, name="urgency"),
    path("<uuid:uuid>/pend/", views.request_pend, name="pend"),
    path("<uuid:uuid>/extend/", views.request_extend, name="extend"),
    path("<uuid:uuid>/decide/", views.request_decide, name="decide"),
    path("<uuid:uuid>/retrospective/", views.request_retrospective, name="retrospective"),
    path("<uuid:uuid>/answer/", views.request_answer, name="answer"),
    path("<uuid:uuid>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<uuid:uuid>/documents/<uuid:document>/", views.document_download, name="document"),
    path("<uuid:uuid>/letters/<uuid:letter>/", views.letter_download, name="letter"),
]
