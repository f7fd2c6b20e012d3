from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cshub.notifications"
    label = "notifications"
