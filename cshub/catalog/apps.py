from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "cshub.catalog"
    label = "catalog"
