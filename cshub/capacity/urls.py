from django.urls import path

from cshub.capacity import views

app_name = "capacity"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("new/", views.report_new, name="new"),
    path("adequacy/", views.adequacy, name="adequacy"),
    path("providers/<uuid:uuid>/", views.provider_history, name="history"),
    path("<uuid:uuid>/", views.report_detail, name="detail"),
    path("<uuid:uuid>/correct/", views.report_correct, name="correct"),
]
