"""Assess: completeness, completion requests, conflicts of interest (jäv), the assessment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, process
from ..models import Assessment, CompletionRequest, ConflictOfInterest
from ..notifications import lazy_interpolate, notify_applicant
from ._base import lock_application, record_event, service_transaction, transition
from .amounts import check_amount_fits_outcome

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..models import Application


def completeness_confirm(*, application: Application, by: User) -> Application:
    """The officer finds the application complete: the case goes on to assessment."""
    return process.run(
        process.Step.CHECK_COMPLETENESS,
        application,
        partial(_completeness_confirm, application=application, by=by),
        by=by,
    )


def _completeness_confirm(*, application: Application, by: User) -> Application:
    with service_transaction():
        application = lock_application(application)
        access.require(access.may_take_part(by, application))
        before = application.status
        transition(application, "accept_as_complete", by=by, what=_("godkänna ansökan som komplett"))
        application.save()
        record_event(application, by=by, action="Ansökan komplett", from_state=before, to_state=application.status)
    return application


def completion_request(*, application: Application, by: User, message: str, due_on: date) -> Application:
    """The officer asks the applicant to complete the application by `due_on`; the case
    waits for the answer."""
    if not message.strip():
        raise ValidationError("Skriv vad den sökande ska komplettera.")
    if due_on <= timezone.localdate():
        raise ValidationError("Sista svarsdag måste ligga efter dagens datum.")
    return process.run(
        process.Step.CHECK_COMPLETENESS,
        application,
        partial(_completion_request, application=application, by=by, message=message, due_on=due_on),
        by=by,
    )


def _completion_request(*, application: Application, by: User, message: str, due_on: date) -> Application:
    with service_transaction():
        application = lock_application(application)
        access.require(access.may_take_part(by, application))
        before = application.status
        transition(application, "request_completion", by=by, what=_("begära komplettering"))
        application.save()
        CompletionRequest.objects.create(application=application, message=message, due_on=due_on, requested_by=by)
        record_event(
            application,
            by=by,
            action="Komplettering begärd",
            from_state=before,
            to_state=application.status,
            note=f"{message} (svar senast {due_on:%Y-%m-%d})",
        )
        notify_applicant(
            application,
            subject=gettext_lazy("Komplettering begärd"),
            body=lazy_interpolate(
                gettext_lazy("Handläggaren behöver mer underlag senast %(due_on)s:\n\n%(message)s"),
                due_on=f"{due_on:%Y-%m-%d}",
                message=message,
            ),
        )
    return application


def conflict_declare(*, application: Application, by: User, reason: str) -> ConflictOfInterest:
    """Declaring jäv takes the person off the case for good: the assessment goes back to the
    queue, where someone else takes it."""
    if not reason.strip():
        raise ValidationError("Ange kort varför du är jävig.")
    access.require(access.may_declare_conflict(by))
    access.require(access.may_see_case(by, application))
    return process.run(
        process.Step.ASSESS,
        application,
        partial(_conflict_declare, application=application, by=by, reason=reason),
        by=by,
    )


def _conflict_declare(*, application: Application, by: User, reason: str) -> ConflictOfInterest:
    with service_transaction():
        application = lock_application(application)
        conflict, created = ConflictOfInterest.objects.get_or_create(
            application=application, user=by, defaults={"reason": reason}
        )
        access.forget_conflicts(by)
        if created:
            record_event(application, by=by, action="Jäv anmält", note=reason)
    return conflict


def assessment_record(
    *,
    application: Application,
    by: User,
    no_conflict: bool,
    proposal: str,
    proposed_amount: Decimal,
    justification: str,
) -> Assessment:
    """The officer's assessment and proposal; the amount decides who decides."""
    if not no_conflict:
        raise ValidationError("Intyga att du inte är jävig, eller anmäl jäv så att någon annan tar över ärendet.")
    if not justification.strip():
        raise ValidationError("Skriv en motivering till förslaget.")
    return process.run(
        process.Step.ASSESS,
        application,
        partial(
            _assessment_record,
            application=application,
            by=by,
            proposal=proposal,
            proposed_amount=proposed_amount,
            justification=justification,
        ),
        by=by,
    )


def _assessment_record(
    *, application: Application, by: User, proposal: str, proposed_amount: Decimal, justification: str
) -> Assessment:
    with service_transaction():
        application = lock_application(application)
        access.require(access.may_take_part(by, application))
        _check_reviews_done(application)
        check_amount_fits_outcome(application, proposal, proposed_amount)
        before = application.status
        transition(application, "assess", by=by, what=_("lämna en bedömning"))
        calculator = application.call.programme.get_calculator()
        calculated = calculator.compute(
            application.call.programme.calculator_params, application.inputs, application.requested_amount
        )
        assessment = Assessment.objects.create(
            application=application,
            officer=by,
            no_conflict_declared=True,
            proposal=proposal,
            proposed_amount=proposed_amount,
            calculated_amount=calculated,
            justification=justification,
        )
        application.save()
        where = "nämnden" if assessment.needs_committee else "handläggaren på delegation"
        label = dict(Assessment.Proposal.choices).get(proposal, proposal)  # lazy: the record is written in Swedish
        record_event(
            application,
            by=by,
            action="Bedömning klar",
            from_state=before,
            to_state=application.status,
            note=format_lazy("Förslag: {} {} kr. Beslut fattas av {}.", label, proposed_amount, where),
        )
    return assessment


def _check_reviews_done(application: Application) -> None:
    """With scoring criteria, the proposal waits for the programme's number of submitted
    reviews (issue 18); without them the single assessment stands."""
    from .reviews import reviews_missing

    missing = reviews_missing(application)
    if missing:
        required = application.call.programme.reviewers_required
        raise ValidationError(
            f"Bidragsformen kräver {required} inlämnade granskningar före förslaget; "
            f"{'1 granskning saknas' if missing == 1 else f'{missing} granskningar saknas'}. "
            "Utse granskare på ärendets granskningssida."
        )
