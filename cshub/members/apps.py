from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "cshub.members"
    label = "members"
