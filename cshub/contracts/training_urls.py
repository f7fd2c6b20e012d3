from django.urls import path

from cshub.contracts import views

app_name = "training"

# Pages: cshub/contracts/views.py (rule N7).
urlpatterns = [
    path("", views.my_training, name="mine"),
    path("catalog/", views.training_courses, name="catalog"),
    path("network/", views.network_training, name="network"),
    path("evidence/<uuid:uuid>/", views.evidence_download, name="evidence"),
]
