"""E-mail to applicants: to every confirmed member of the organisation, each in the language
they chose (ApplicantSettings.language, Swedish unless they chose English), and always
sent after commit, so a rolled-back step sends nothing.

Required mails go to everyone; a person may turn off the others (ApplicantSettings.
optional_emails, on the portal's settings page). Required are the mails that ask the
applicant to act or that carry a decision with legal effect:

- the receipt of a submitted application,
- a decision on the application,
- a completion request, for the application or for the follow-up report,
- a rejected follow-up report and its repayment claim,
- a reminder that the follow-up report is due.

Optional is news of how the case goes that asks nothing of the applicant: a follow-up
report approved, a payment made, a sponsor's confirmation, and the like. Callers say so
with `required=False`; a caller that does not say is required.

Callers pass the subject and body as lazily translated text (gettext_lazy, or
`lazy_interpolate` for text with values), so that each language group gets them rendered
in its own language; a plain str goes out as it is to everyone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.dispatch import Signal
from django.utils import translation
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext

from .models import Membership

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from .models import Application

# (application, subject, body) of one mail to an application's organisation.
Notice = tuple["Application", "StrOrPromise", "StrOrPromise"]

# Sent once per batch of mails, with `notices`: [(application, subject)] of the applications
# whose people were mailed. The register (grants.records) registers each e-mail as outgoing.
applicant_notified = Signal()


def _interpolate(message: StrOrPromise, values: dict[str, Any]) -> str:
    return message % values  # a lazy message is translated here, in the language then active


_interpolate_lazy = lazy(_interpolate, str)


def lazy_interpolate(message: StrOrPromise, /, **values: Any) -> StrOrPromise:
    """`message % values`, both translated only when the text is read: for an e-mail, once
    per recipient's language. `gettext_lazy("…") % {…}` would translate at once, in the
    language of whoever took the step."""
    return _interpolate_lazy(message, values)


def _amount(amount: Decimal | int) -> str:
    decimals = 0 if amount == int(amount) else 2
    return number_format(amount, decimals, use_l10n=True, force_grouping=True)


_amount_lazy = lazy(_amount, str)


def lazy_amount(amount: Decimal | int) -> StrOrPromise:
    """An amount of kronor written as the recipient's language writes numbers (12 500 or
    12,500), without öre when there are none."""
    return _amount_lazy(amount)


def _recipients(organisation_ids: Iterable[int], *, required: bool) -> dict[int, list[tuple[str, str]]]:
    """{organisation id: [(e-mail, language)]} of the organisations' confirmed members who
    get this mail, in one query however many organisations (their settings are joined; a
    person who never saved any has the defaults: Swedish, and every mail)."""
    rows = (
        Membership.objects.filter(organisation_id__in=set(organisation_ids), status=Membership.Status.CONFIRMED)
        .exclude(user__email="")
        .values_list(
            "organisation_id",
            "user__email",
            "user__applicant_settings__language",
            "user__applicant_settings__optional_emails",
        )
        .order_by("organisation_id", "user_id")
    )
    recipients: dict[int, list[tuple[str, str]]] = {}
    for organisation_id, email, language, optional_emails in rows:
        if required or optional_emails is not False:
            recipients.setdefault(organisation_id, []).append((email, language or settings.LANGUAGE_CODE))
    return recipients


def notify_applicant(
    application: Application, *, subject: StrOrPromise, body: StrOrPromise, required: bool = True
) -> None:
    """Mail `subject` and `body` about the application to its organisation's confirmed
    members, each in their language; `required=False` for news they may turn off."""
    notify_applicants([(application, subject, body)], required=required)


def notify_applicants(notices: Sequence[Notice], *, required: bool = True) -> None:
    """notify_applicant for many at once, e.g. every payment finance marks paid in one go:
    notices is [(application, subject, body)]. The recipients of all of them are read in
    one query, and every mail goes in one batch after commit."""
    recipients = _recipients([application.organisation_id for application, _s, _b in notices], required=required)
    messages: list[tuple[str, str, str, list[str]]] = []
    mailed: list[tuple[Application, StrOrPromise]] = []
    for application, subject, body in notices:
        reference = application.case_number or application.title
        rendered: dict[str, tuple[str, str]] = {}
        for email, language in recipients.get(application.organisation_id, ()):
            if language not in rendered:
                with translation.override(language):
                    closing = gettext("Logga in i bidragsportalen för att se ärendet.")
                    rendered[language] = (f"{reference}: {subject}", f"{body}\n\n{closing}\n")
            messages.append((*rendered[language], settings.DEFAULT_FROM_EMAIL, [email]))
        if rendered:
            mailed.append((application, subject))
    if mailed:
        applicant_notified.send(sender=None, notices=mailed)
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
