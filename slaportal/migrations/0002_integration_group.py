from django.db import migrations

NAME = "Integration"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=NAME)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("slaportal", "0001_role_groups")]

    operations = [migrations.RunPython(create_group, remove_group)]
