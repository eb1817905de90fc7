"""E-mail to applicants. Always sent after commit, so a rolled-back step sends nothing."""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from .models import Membership


def notify_applicant(application, *, subject, body):
    recipients = [
        email for email in application.organisation.memberships.filter(status=Membership.Status.CONFIRMED)
        .values_list("user__email", flat=True) if email
    ]
    if not recipients:
        return
    subject = f"{application.case_number or application.title}: {subject}"
    text = f"{body}\n\nLogga in i bidragsportalen för att se ärendet.\n"
    messages = [(subject, text, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
