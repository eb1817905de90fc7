"""Apply: drafts, submission with a case number, withdrawal, answering a completion request."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Application, BudgetLine, CaseNumberSeries, CompletionRequest, Document, Membership, Organisation
from ._base import (Upload, discarded_on_failure, document_create, lock_application, record_event, store_file,
                    transition)


def _check_may_apply(*, organisation, call, by):
    if not organisation.memberships.filter(user=by, status=Membership.Status.CONFIRMED).exists():
        raise PermissionDenied("Du kan bara söka för en förening där du är kontaktperson eller firmatecknare.")
    programme = call.programme
    if organisation.kind == Organisation.Kind.INFORMAL_GROUP and not programme.accepts_informal_groups:
        raise ValidationError(f"{programme.name} kan bara sökas av registrerade föreningar.")


def compute_requested_amount(*, call, inputs, stated_amount):
    """The amount an application asks for: stated by the applicant, or given by the
    programme's rule (capped at the call's maximum, since the rule cannot know it)."""
    calculator = call.programme.get_calculator()
    if calculator.applicant_states_amount:
        return stated_amount or Decimal("0.00")
    amount = calculator.compute(call.programme.calculator_params, inputs, stated_amount)
    return min(amount, call.max_amount)


def application_save_draft(*, application=None, call, organisation, by, title, description, period_start,
                           period_end, stated_amount=None, inputs=None, budget_lines=(), attachment=None,
                           priority_area="", target_group=""):
    """Create or update a draft. budget_lines: iterable of (kind, label, amount).
    priority_area, target_group: chosen from the programme's lists, when it has them.

    attachment: an Upload to add to the draft, or None. It is stored first, outside the
    transaction (uploads are slow); then the draft, the Document row and their events are
    written in one transaction, and if that fails the stored file is removed again. So a
    file store that is down leaves nothing behind: no draft, no document, no event."""
    _check_may_apply(organisation=organisation, call=call, by=by)
    if not call.is_open():
        raise ValidationError(f"Utlysningen ”{call.title}” är stängd sedan {call.closes_on:%Y-%m-%d}.")
    inputs = inputs or {}
    programme = call.programme
    for value, choices, what in ((priority_area, programme.priority_areas, "prioriterat område"),
                                 (target_group, programme.target_groups, "målgrupp")):
        if value and value not in choices:
            raise ValidationError(f"Välj {what} bland dem som {programme.name} anger.")
    stored = None
    if attachment is not None:
        stored = store_file(application=application, folder=Document.Kind.ATTACHMENT,
                            filename=attachment.filename, content=attachment.content)
    with discarded_on_failure(stored), transaction.atomic():
        if application is None:
            application = Application(call=call, organisation=organisation, created_by=by)
            created = True
        else:
            application = lock_application(application)
            if application.status != Application.Status.DRAFT:
                raise ValidationError("Ansökan är redan inskickad och kan inte längre ändras.")
            if application.organisation_id != organisation.pk:
                raise PermissionDenied("Du kan inte flytta en ansökan till en annan förening.")
            created = False
        application.title = title
        application.description = description
        application.period_start = period_start
        application.period_end = period_end
        application.inputs = inputs
        application.priority_area = priority_area or ""
        application.target_group = target_group or ""
        application.requested_amount = compute_requested_amount(call=call, inputs=inputs, stated_amount=stated_amount)
        application.full_clean(exclude=["status", "created_by"])
        application.save()
        application.budget_lines.all().delete()
        BudgetLine.objects.bulk_create(
            [BudgetLine(application=application, kind=kind, label=label, amount=amount)
             for kind, label, amount in budget_lines]
        )
        if created:
            record_event(application, by=by, action="Utkast skapat", to_state=application.status)
        if stored:
            document_create(application=application, kind=Document.Kind.ATTACHMENT, upload=attachment,
                            stored=stored, by=by)
            record_event(application, by=by, action="Fil bifogad", note=attachment.filename)
    return application


def application_attach(*, application, by, filename, content_type, content, kind=Document.Kind.ATTACHMENT):
    """Attach an uploaded file to one's own draft or open completion request. The file is
    stored first; the Document row and the event are written together, or the file goes again."""
    if not application.is_applicant(by):
        raise PermissionDenied("Du kan bara lägga till filer i din egen förenings ansökningar.")
    allowed = {
        Document.Kind.ATTACHMENT: (Application.Status.DRAFT,),
        Document.Kind.COMPLETION: (Application.Status.AWAITING_COMPLETION,),
        Document.Kind.FOLLOW_UP: Application.GRANTED,
    }[kind]
    if application.status not in allowed:
        raise ValidationError("Det går inte att lägga till filer i ärendet i dess nuvarande läge.")
    stored = store_file(application=application, folder=kind, filename=filename, content=content)
    with discarded_on_failure(stored), transaction.atomic():
        document = document_create(application=application, kind=kind,
                                   upload=Upload(filename, content_type, content), stored=stored, by=by)
        record_event(application, by=by, action="Fil bifogad", note=filename)
    return document


def check_submittable(application):
    """Everything a submission must satisfy, as Swedish messages (empty if fine)."""
    problems = []
    call = application.call
    programme = call.programme
    if not call.is_open():
        problems.append(f"Utlysningen stängde {call.closes_on:%Y-%m-%d}; ansökan kan inte längre skickas in.")
    if application.requested_amount <= 0:
        problems.append("Det sökta beloppet måste vara större än 0 kr.")
    if application.requested_amount > call.max_amount:
        problems.append(
            f"Det sökta beloppet {application.requested_amount:,.2f} kr är högre än utlysningens högsta belopp "
            f"{call.max_amount:,.2f} kr.".replace(",", " ")
        )
    if programme.get_calculator().uses_budget:
        lines = list(application.budget_lines.all())
        costs = sum((line.amount for line in lines if line.kind == "cost"), Decimal(0))
        income = sum((line.amount for line in lines if line.kind == "income"), Decimal(0))
        if costs <= 0:
            problems.append("Budgeten saknar kostnader. Lägg till minst en kostnadspost.")
        elif application.requested_amount > costs - income:
            problems.append("Det sökta beloppet är större än budgetens kostnader minus intäkter och egen insats.")
    try:
        application.organisation.check_payee_account()
    except ValidationError as exc:
        problems.append(exc.messages[0])
    return problems


def _next_case_number(committee, year):
    # Make sure the series row exists, then lock it: concurrent submits queue up here,
    # and a rolled-back submit gives its number back, so the series stays gapless.
    try:
        with transaction.atomic():
            CaseNumberSeries.objects.get_or_create(committee=committee, year=year)
    except IntegrityError:
        pass  # someone else created it at the same moment
    series = CaseNumberSeries.objects.select_for_update().get(committee=committee, year=year)
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return f"{committee.code} {year}/{series.last_number:04d}"


def application_submit(*, application, by):
    with transaction.atomic():
        application = lock_application(application)
        problems = check_submittable(application) if application.status == Application.Status.DRAFT else []
        if problems:
            raise ValidationError(problems)
        before = application.status
        transition(application, "submit", by=by, what="skicka in ansökan")
        application.case_number = _next_case_number(application.call.programme.committee, timezone.localdate().year)
        application.save()
        record_event(application, by=by, action="Ansökan inkommen", from_state=before, to_state=application.status,
                     note=f"Diarienummer {application.case_number}")
    return application


def application_withdraw(*, application, by, note="", flow_cancelled=False):
    """Withdraw before a decision. A submitted case has a flow with open tasks: the caller
    (workflows.cases) cancels it in the same transaction and says so with flow_cancelled."""
    with transaction.atomic():
        application = lock_application(application)
        if application.status not in (Application.Status.DRAFT, Application.Status.AWAITING_SPONSOR) \
                and not flow_cancelled:
            raise ValidationError("Ansökan är redan inskickad: återta den från ärendets sida i portalen.")
        before = application.status
        transition(application, "withdraw", by=by, what="återta ansökan")
        application.save()
        record_event(application, by=by, action="Ansökan återtagen", from_state=before, to_state=application.status,
                     note=note)
    return application


def completion_answer(*, application, by, answer):
    """The applicant answers the open completion request; the case returns to the officer."""
    if not answer.strip():
        raise ValidationError("Skriv ett svar på kompletteringsbegäran.")
    with transaction.atomic():
        application = lock_application(application)
        before = application.status
        transition(application, "complete", by=by, what="skicka in en komplettering")
        request = application.completion_requests.filter(answered_at__isnull=True).select_for_update().first()
        if request is not None:
            request.answer = answer
            request.answered_at = timezone.now()
            request.save(update_fields=["answer", "answered_at"])
        application.save()
        record_event(application, by=by, action="Komplettering inkommen", from_state=before,
                     to_state=application.status, note=answer)
    return application
