from django.db import migrations


def load(apps, schema_editor):
    from cshub.core.reference import sync_counties

    sync_counties(apps.get_model("core", "County"))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
