from django.urls import path
from django.views.generic import RedirectView

app_name = "members"
# Placeholder routes until the members pages land (replaced by the members views).
urlpatterns = [
    path("", RedirectView.as_view(url="/"), name="list"),
    path("import/", RedirectView.as_view(url="/"), name="import"),
]
