"""Registration follows what happens to a case (records.register): the signals that connect it."""

from django.db.models.signals import post_save

from grants import notifications
from grants.models import CaseEvent, CaseMessage, Document


def _document_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .register import document_registered

        document_registered(instance)


def _message_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .register import message_registered

        message_registered(instance)


def _event_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    from .register import EVENT_ENTRIES, application_registered, entry_add

    if instance.action == "Ansökan inkommen":
        application_registered(instance.application)
    elif instance.action in EVENT_ENTRIES:
        direction, description = EVENT_ENTRIES[instance.action]
        entry_add(instance.application, direction=direction, description=description)


def _applicant_notified(sender, notices, **kwargs):
    from .register import emails_registered

    emails_registered(notices)


def connect() -> None:
    post_save.connect(_document_saved, sender=Document, dispatch_uid="register:document")
    post_save.connect(_message_saved, sender=CaseMessage, dispatch_uid="register:message")
    post_save.connect(_event_saved, sender=CaseEvent, dispatch_uid="register:event")
    notifications.applicant_notified.connect(_applicant_notified, dispatch_uid="register:email")
