from django.conf import settings
from django.db import migrations


def confirm_existing(apps, schema_editor):
    """Accounts made before addresses were confirmed keep acting as they did: their current
    address counts as confirmed (the municipality knew them). New accounts confirm by link."""
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    ConfirmedEmail = apps.get_model("identity", "ConfirmedEmail")
    ConfirmedEmail.objects.bulk_create(
        ConfirmedEmail(user_id=pk, email=email) for pk, email in User.objects.exclude(email="").values_list("pk", "email")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_security_and_identities"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(confirm_existing, migrations.RunPython.noop)]
