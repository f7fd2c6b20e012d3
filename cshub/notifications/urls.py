from django.urls import path

from cshub.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read-all/", views.notification_mark_all_read, name="mark_all_read"),
    path("<uuid:uuid>/", views.notification_open, name="open"),
    path("<uuid:uuid>/read/", views.notification_mark_read, name="mark_read"),
]
