from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "cshub.directory"
    label = "directory"
    verbose_name = "Provider directory and program listings"
