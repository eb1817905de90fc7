from django.db import migrations


def closed_at_fill(apps, schema_editor):
    """Cases that ended before closed_at existed: the day they were withdrawn, rejected or closed."""
    Application = apps.get_model("grants", "Application")
    CaseEvent = apps.get_model("grants", "CaseEvent")
    Decision = apps.get_model("grants", "Decision")
    for application in Application.objects.filter(status__in=["withdrawn", "rejected", "closed"], closed_at=None):
        when = None
        if application.status == "withdrawn":
            when = application.withdrawn_at
        elif application.status == "rejected":
            when = Decision.objects.filter(application=application).values_list("decided_at", flat=True).first()
        else:
            when = (
                CaseEvent.objects.filter(application=application, to_state="closed")
                .order_by("-created_at")
                .values_list("created_at", flat=True)
                .first()
            )
        application.closed_at = when or application.updated_at
        application.save(update_fields=["closed_at"])


class Migration(migrations.Migration):
    dependencies = [("grants", "0019_committee_work_and_record")]

    operations = [migrations.RunPython(closed_at_fill, migrations.RunPython.noop)]
