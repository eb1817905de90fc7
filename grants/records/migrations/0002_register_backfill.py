from django.db import migrations

KIND_LABELS = {
    "attachment": "Bilaga till ansökan",
    "completion": "Komplettering",
    "follow_up": "Bilaga till återrapport",
    "receipt": "Mottagningskvitto",
    "decision_letter": "Beslutsbrev",
    "repayment_letter": "Beslut om återkrav",
    "message": "Bilaga till meddelande",
}
OUTGOING = ("receipt", "decision_letter", "repayment_letter")


def register_fill(apps, schema_editor):
    """Register what came in to and went out from the cases submitted before the register existed."""
    Application = apps.get_model("grants", "Application")
    RegisterEntry = apps.get_model("records", "RegisterEntry")
    entries = []
    applications = (
        Application.objects.exclude(status__in=["draft", "awaiting_sponsor"])
        .select_related("organisation", "call__programme")
        .prefetch_related("documents__message", "messages")
    )
    for application in applications:
        organisation = application.organisation
        who = "private_person" if organisation.kind == "informal_group" else "association"

        def entry(when, direction, description, document=None, message=None):
            entries.append(
                RegisterEntry(
                    application=application,
                    registered_at=when,
                    direction=direction,
                    counterpart=organisation.name[:200],
                    counterpart_kind=who,
                    description=description[:300],
                    document=document,
                    message=message,
                )
            )

        received = application.submitted_at or application.created_at
        entry(received, "in", f"Ansökan om {application.call.programme.name}: {application.title}")
        for document in application.documents.all():
            if document.kind in OUTGOING or (document.message_id and document.message.from_staff):
                direction = "out"
            else:
                direction = "in"
            label = KIND_LABELS.get(document.kind, document.kind)
            # A sender's file name may name people: only the municipality's own documents show theirs.
            description = f"{label}: {document.filename}" if direction == "out" else label
            entry(document.created_at, direction, description, document=document)
        for message in application.messages.all():
            if message.kind == "message":
                if message.from_staff:
                    entry(message.created_at, "out", "Meddelande till sökande", message=message)
                else:
                    entry(message.created_at, "in", "Meddelande från sökande", message=message)
    RegisterEntry.objects.bulk_create(entries, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial"), ("grants", "0020_closed_at_backfill")]

    operations = [migrations.RunPython(register_fill, migrations.RunPython.noop)]
