"""Apply: drafts saved step by step, submission with a case number, an informal group's
sponsor confirming or declining, withdrawal, answering a completion request."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, limits, process, questions, required_attachments, staff_notices
from ..calculators import Inputs, check_inputs
from ..models import (
    Application,
    BudgetLine,
    Call,
    CaseNumberSeries,
    Committee,
    Document,
    Membership,
    Organisation,
    Programme,
    StaffNotice,
)
from ..notifications import lazy_amount, lazy_interpolate, notify_applicant
from ._base import (
    Upload,
    discard_file,
    discarded_on_failure,
    document_create,
    lock_application,
    record_event,
    service_transaction,
    store_file,
    transition,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    from ..files import Stored

# A budget line as the callers give it: its kind ("cost" or "income"), label and amount.
BudgetLineRow = tuple[str, str, Decimal]


def _check_may_apply(*, organisation: Organisation, call: Call, by: User) -> None:
    if not organisation.memberships.filter(user=by, status=Membership.Status.CONFIRMED).exists():
        raise PermissionDenied(_("Du kan bara söka för en förening där du är kontaktperson eller firmatecknare."))
    programme = call.programme
    if organisation.kind == Organisation.Kind.INFORMAL_GROUP and not programme.accepts_informal_groups:
        raise ValidationError(
            _("%(programme)s kan bara sökas av registrerade föreningar.") % {"programme": programme.name}
        )


def _check_call_open(call: Call) -> None:
    if not call.is_open():
        raise ValidationError(
            _("Utlysningen ”%(title)s” är stängd sedan %(date)s.")
            % {"title": call.title, "date": f"{call.closes_on:%Y-%m-%d}"}
        )


def _check_choices(programme: Programme, priority_area: str, target_group: str) -> None:
    for value, choices, what in (
        (priority_area, programme.priority_areas, _("prioriterat område")),
        (target_group, programme.target_groups, _("målgrupp")),
    ):
        if value and value not in choices:
            raise ValidationError(
                _("Välj %(what)s bland dem som %(programme)s anger.") % {"what": what, "programme": programme.name}
            )


def period_problems(call: Call, start: date | str | None, end: date | str | None) -> dict[str, str]:
    """What is wrong with a project period for the call, by field ({} if nothing). A period
    far from the call is a typing mistake, and dates like 9999-12-31 would break every date
    worked out from it (the follow-up report's deadline)."""
    problems: dict[str, str] = {}
    if start is None or end is None:
        return problems
    # Callers other than the portal's form may give the dates as ISO strings.
    as_date = Application._meta.get_field("period_start").to_python
    start, end = cast(date, as_date(start)), cast(date, as_date(end))
    earliest, latest = limits.period_bounds(call)
    if start < earliest:
        problems["period_start"] = _(
            "Periodens början kan vara tidigast %(date)s, ett år innan utlysningen öppnade."
        ) % {"date": f"{earliest:%Y-%m-%d}"}
    if end > latest:
        problems["period_end"] = _("Periodens slut kan vara senast %(date)s, fem år efter att utlysningen stänger.") % {
            "date": f"{latest:%Y-%m-%d}"
        }
    elif end < start:
        problems["period_end"] = _("Periodens slut kan inte ligga före dess början.")
    return problems


def _check_period(call: Call, start: date | str | None, end: date | str | None) -> None:
    problems = period_problems(call, start, end)
    if problems:
        raise ValidationError(problems)


def _draft_locked(application: Application, *, by: User) -> Application:
    """The draft re-read under its row lock, for one of its own organisation's members."""
    application = lock_application(application)
    if application.status != Application.Status.DRAFT:
        raise ValidationError(_("Ansökan är redan inskickad och kan inte längre ändras."))
    _check_may_apply(organisation=application.organisation, call=application.call, by=by)
    _check_call_open(application.call)
    return application


def compute_requested_amount(*, call: Call, inputs: Inputs, stated_amount: Decimal | None) -> Decimal:
    """The amount an application asks for: stated by the applicant, or given by the
    programme's rule (capped at the call's maximum, since the rule cannot know it)."""
    calculator = call.programme.get_calculator()
    if calculator.applicant_states_amount:
        return stated_amount or Decimal("0.00")
    amount = calculator.compute(call.programme.calculator_params, inputs, stated_amount)
    return min(amount, call.max_amount)


def application_save_details(
    *,
    application: Application | None = None,
    call: Call,
    organisation: Organisation,
    by: User,
    title: str,
    description: str,
    period_start: date | str,
    period_end: date | str,
    priority_area: str = "",
    target_group: str = "",
) -> Application:
    """Step 1 of the form, "Sökande och projekt": create the draft, or update its details.
    The organisation is chosen when the draft is created and stays."""
    _check_may_apply(organisation=organisation, call=call, by=by)
    _check_call_open(call)
    _check_choices(call.programme, priority_area, target_group)
    _check_period(call, period_start, period_end)
    with transaction.atomic():
        if application is None:
            application = Application(call=call, organisation=organisation, created_by=by)
            application.requested_amount = compute_requested_amount(call=call, inputs={}, stated_amount=None)
            created = True
        else:
            application = _draft_locked(application, by=by)
            if application.organisation_id != organisation.pk:
                raise PermissionDenied(_("Du kan inte flytta en ansökan till en annan förening."))
            created = False
        application.title = title
        application.description = description
        application.period_start = period_start
        application.period_end = period_end
        application.priority_area = priority_area or ""
        application.target_group = target_group or ""
        application.full_clean(exclude=["status", "created_by"])
        application.save()
        if created:
            record_event(application, by=by, action="Utkast skapat", to_state=application.status)
    return application


def application_save_amount(
    *,
    application: Application,
    by: User,
    stated_amount: Decimal | None = None,
    inputs: Inputs | None = None,
    budget_lines: Iterable[BudgetLineRow] = (),
) -> Application:
    """Step 2 of the form, "Belopp": what the programme's calculator needs, or the amount
    asked for, and the budget. budget_lines: iterable of (kind, label, amount); they replace
    the draft's lines."""
    inputs = inputs or {}
    check_inputs(application.call.programme.get_calculator(), inputs)
    lines = [
        BudgetLine(application=application, kind=kind, label=label, amount=amount)
        for kind, label, amount in budget_lines
    ]
    for line in lines:
        line.full_clean(exclude=["application"])
    with transaction.atomic():
        application = _draft_locked(application, by=by)
        application.inputs = inputs
        application.requested_amount = compute_requested_amount(
            call=application.call, inputs=inputs, stated_amount=stated_amount
        )
        application.full_clean(exclude=["status", "created_by"])
        application.save()
        application.budget_lines.all().delete()
        BudgetLine.objects.bulk_create(lines)
    return application


def application_save_draft(
    *,
    application: Application | None = None,
    call: Call,
    organisation: Organisation,
    by: User,
    title: str,
    description: str,
    period_start: date | str,
    period_end: date | str,
    stated_amount: Decimal | None = None,
    inputs: Inputs | None = None,
    budget_lines: Iterable[BudgetLineRow] = (),
    attachment: Upload | None = None,
    priority_area: str = "",
    target_group: str = "",
) -> Application:
    """Create or update a whole draft at once (the demo data and the tests; the portal saves
    it step by step). budget_lines: iterable of (kind, label, amount). priority_area,
    target_group: chosen from the programme's lists, when it has them.

    attachment: an Upload to add to the draft, or None. It is stored first, outside the
    transaction (uploads are slow); then the draft, the Document row and their events are
    written in one transaction, and if that fails the stored file is removed again. So a
    file store that is down leaves nothing behind: no draft, no document, no event."""
    _check_may_apply(organisation=organisation, call=call, by=by)
    _check_call_open(call)
    _check_choices(call.programme, priority_area, target_group)
    stored = None
    if attachment is not None:
        stored = store_file(
            application=application,
            folder=Document.Kind.ATTACHMENT,
            filename=attachment.filename,
            content=attachment.content,
        )
    with discarded_on_failure(stored), transaction.atomic():
        application = application_save_details(
            application=application,
            call=call,
            organisation=organisation,
            by=by,
            title=title,
            description=description,
            period_start=period_start,
            period_end=period_end,
            priority_area=priority_area,
            target_group=target_group,
        )
        application = application_save_amount(
            application=application, by=by, stated_amount=stated_amount, inputs=inputs, budget_lines=budget_lines
        )
        if stored and attachment is not None:
            document_create(
                application=application, kind=Document.Kind.ATTACHMENT, upload=attachment, stored=stored, by=by
            )
            record_event(application, by=by, action="Fil bifogad", note=attachment.filename)
    return application


def application_attach(
    *,
    application: Application,
    by: User,
    filename: str,
    content_type: str,
    content: bytes,
    kind: Document.Kind = Document.Kind.ATTACHMENT,
    attachment_key: str = "",
) -> Document:
    """Attach an uploaded file to one's own draft or open completion request. The file is
    stored first; the Document row and the event are written together, or the file goes again.
    attachment_key: which of the programme's required attachments the file is ("" for none)."""
    access.require(
        access.is_applicant(by, application), _("Du kan bara lägga till filer i din egen förenings ansökningar.")
    )
    allowed = {
        Document.Kind.ATTACHMENT: (Application.Status.DRAFT,),
        Document.Kind.COMPLETION: (Application.Status.AWAITING_COMPLETION,),
        Document.Kind.FOLLOW_UP: Application.GRANTED,
    }[kind]
    if application.status not in allowed:
        raise ValidationError(_("Det går inte att lägga till filer i ärendet i dess nuvarande läge."))
    if attachment_key:
        configured = {item["key"] for item in application.call.programme.required_attachments or []}
        if kind != Document.Kind.ATTACHMENT or attachment_key not in configured:
            raise ValidationError(_("Bilagan finns inte bland dem som bidragsformen ber om."))
    stored = store_file(application=application, folder=kind, filename=filename, content=content)
    with discarded_on_failure(stored), transaction.atomic():
        document = document_create(
            application=application,
            kind=kind,
            upload=Upload(filename, content_type, content),
            stored=stored,
            by=by,
            attachment_key=attachment_key,
        )
        record_event(application, by=by, action="Fil bifogad", note=filename)
    return document


def application_save_answers(*, application: Application, by: User, answers: dict[str, Any]) -> Application:
    """The "Frågor" step: save the answers to the programme's questions on one's own draft.
    They are checked against the questions as the step's form checks them; answers to
    questions the programme no longer has are kept."""
    programme = application.call.programme
    form = questions.QuestionsForm(
        {questions.field_name(q): answers.get(q["key"], "") for q in programme.application_questions},
        questions=programme.application_questions,
    )
    if not form.is_valid():
        raise ValidationError(
            [f"{form.fields[name].label}: {error}" for name, errors in form.errors.items() for error in errors]
        )
    with transaction.atomic():
        application = _draft_locked(application, by=by)
        current = {q["key"] for q in programme.application_questions}
        kept = {key: value for key, value in application.answers.items() if key not in current}
        application.answers = {**kept, **form.answers()}
        application.full_clean(exclude=["status", "created_by"])
        application.save(update_fields=["answers", "updated_at"])
    return application


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ")


def missing_inputs(application: Application) -> list[str]:
    """The labels of what the programme's calculator needs and the draft does not yet say
    (the portal's steps ask for them before a draft can be sent)."""
    return [
        str(item.label)
        for item in application.call.programme.get_calculator().inputs
        if application.inputs.get(item.name) in (None, "")
    ]


def check_submittable(application: Application) -> list[str]:
    """Everything a submission must satisfy, as Swedish messages (empty if fine)."""
    problems: list[str] = []
    call = application.call
    programme = call.programme
    if not call.is_open():
        problems.append(
            _("Utlysningen stängde %(date)s; ansökan kan inte längre skickas in.")
            % {"date": f"{call.closes_on:%Y-%m-%d}"}
        )
    problems += period_problems(call, application.period_start, application.period_end).values()
    if application.requested_amount <= 0:
        problems.append(_("Det sökta beloppet måste vara större än 0 kr."))
    if application.requested_amount > call.max_amount:
        problems.append(
            _("Det sökta beloppet %(amount)s kr är högre än utlysningens högsta belopp %(max)s kr.")
            % {"amount": _money(application.requested_amount), "max": _money(call.max_amount)}
        )
    if programme.get_calculator().uses_budget:
        lines = list(application.budget_lines.all())
        costs = sum((line.amount for line in lines if line.kind == "cost"), Decimal(0))
        income = sum((line.amount for line in lines if line.kind == "income"), Decimal(0))
        if costs <= 0:
            problems.append(_("Budgeten saknar kostnader. Lägg till minst en kostnadspost."))
        elif application.requested_amount > costs - income:
            problems.append(_("Det sökta beloppet är större än budgetens kostnader minus intäkter och egen insats."))
    for question in questions.missing_answers(programme, application.answers):
        problems.append(_("Svara på frågan ”%(label)s” under Frågor.") % {"label": questions.label_of(question)})
    for row in required_attachments.missing(programme, application.documents.all()):
        problems.append(_("Bifoga %(label)s.") % {"label": row["label"]})
    try:
        application.organisation.check_payee_account()
    except ValidationError as exc:
        # A first account asked for and not yet approved is enough to apply: it must be
        # approved before anything is paid (attestation reads only the approved account).
        if not application.organisation.payee.account_requests.filter(status="pending").exists():
            problems.append(exc.messages[0])
    return problems


def _locked_series(committee: Committee, year: int) -> CaseNumberSeries:
    """The committee's case number series for the year, locked; made first if it is the
    year's first case (in a savepoint: someone else may make it at the same moment)."""
    series = CaseNumberSeries.objects.select_for_update().filter(committee=committee, year=year).first()
    if series is not None:
        return series
    try:
        with transaction.atomic():
            CaseNumberSeries.objects.get_or_create(committee=committee, year=year)
    except IntegrityError:
        pass  # someone else created it at the same moment
    return CaseNumberSeries.objects.select_for_update().get(committee=committee, year=year)


def _next_case_number(committee: Committee, year: int) -> str:
    # Lock the series row: concurrent submits queue up here, and a rolled-back submit
    # gives its number back, so the series stays gapless.
    series = _locked_series(committee, year)
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return f"{committee.code} {year}/{series.last_number:04d}"


def _take_case_number(application: Application, *, by: User, before: str) -> None:
    application.case_number = _next_case_number(application.call.programme.committee, timezone.localdate().year)
    application.save()
    record_event(
        application,
        by=by,
        action="Ansökan inkommen",
        from_state=before,
        to_state=application.status,
        note=f"Diarienummer {application.case_number}",
    )


def _check_submittable_draft(application: Application, statuses: tuple[str, ...]) -> None:
    problems = check_submittable(application) if application.status in statuses else []
    if problems:
        raise ValidationError(problems)


def application_submit(*, application: Application, by: User) -> Application:
    """Submit a draft: it takes its case number and its process starts, so it reaches the
    officer. An informal group's application needs its sponsor's confirmation first
    (application_ask_sponsor); a confirmed member of the sponsor who submits it confirms it
    by doing so."""
    access.require(access.email_confirmed(by))
    return process.run(process.Step.SUBMIT, application, partial(_submit, application=application, by=by), by=by)


def _submit(*, application: Application, by: User) -> Application:
    with service_transaction():
        application = lock_application(application)
        access.require(access.may_submit_for(application.organisation))
        _check_submittable_draft(application, (Application.Status.DRAFT,))
        before = application.status
        if application.organisation.kind == Organisation.Kind.INFORMAL_GROUP:
            if application.status == Application.Status.DRAFT and not access.is_sponsor_contact(by, application):
                raise ValidationError(
                    _(
                        "En grupp utan organisationsnummer skickar ansökan till sin medsökare, "
                        "som bekräftar den innan den kommer till handläggaren."
                    )
                )
            transition(application, "ask_sponsor", by=by, what=_("skicka in ansökan"))
            transition(
                application, "sponsor_confirm", by=by, what=_("bekräfta ansökan som medsökare"), kwargs={"by": by}
            )
        else:
            transition(application, "submit", by=by, what=_("skicka in ansökan"))
        _take_case_number(application, by=by, before=before)
    return application


# --- an informal group's sponsor ------------------------------------------------------------


def _sponsor_of(application: Application) -> Organisation:
    """The sponsor association of an informal group's application (only those come here)."""
    sponsor = application.organisation.sponsor
    assert sponsor is not None
    return sponsor


def _notify_sponsor(application: Application, *, subject: StrOrPromise, body: StrOrPromise) -> None:
    """E-mail the sponsor association's confirmed members, each in their language, after
    commit. It asks them to act, so it goes to everyone (grants.notifications explains)."""
    sponsor_id = application.organisation.sponsor_id
    assert sponsor_id is not None
    rows = (
        Membership.objects.filter(organisation_id=sponsor_id, status=Membership.Status.CONFIRMED)
        .exclude(user__email="")
        .values_list("user__email", "user__applicant_settings__language")
        .order_by("user_id")
    )
    rendered, messages = {}, []
    for email, language in rows:
        language = language or settings.LANGUAGE_CODE
        if language not in rendered:
            with translation.override(language):
                closing = _("Logga in i bidragsportalen för att läsa och bekräfta ansökan.")
                rendered[language] = (str(subject), f"{body}\n\n{closing}\n")
        messages.append((*rendered[language], settings.DEFAULT_FROM_EMAIL, [email]))
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def application_ask_sponsor(*, application: Application, by: User) -> Application:
    """An informal group sends its draft to its sponsor association, whose confirmed members
    are asked by e-mail to confirm it. The same checks as a submission."""
    with transaction.atomic():
        application = lock_application(application)
        if application.organisation.kind != Organisation.Kind.INFORMAL_GROUP:
            raise ValidationError(_("Bara en grupp utan organisationsnummer skickar ansökan till en medsökare."))
        access.require(access.may_submit_for(application.organisation))
        _check_submittable_draft(application, (Application.Status.DRAFT,))
        before = application.status
        transition(application, "ask_sponsor", by=by, what=_("skicka ansökan till medsökaren"))
        application.save()
        sponsor = _sponsor_of(application)
        record_event(
            application,
            by=by,
            action="Skickad till medsökaren för bekräftelse",
            from_state=before,
            to_state=application.status,
            note=sponsor.name,
        )
        _notify_sponsor(
            application,
            subject=lazy_interpolate(
                gettext_lazy("%(group)s ber er bekräfta en ansökan som medsökare"), group=application.organisation.name
            ),
            body=lazy_interpolate(
                gettext_lazy(
                    "%(group)s har ansökt om %(programme)s (”%(title)s”, %(amount)s kr) med %(sponsor)s "
                    "som medsökare. Ansökan kommer till handläggaren först när någon i %(sponsor)s har "
                    "bekräftat den. Ett beviljat bidrag betalas till föreningens konto."
                ),
                group=application.organisation.name,
                programme=application.call.programme.name,
                title=application.title,
                amount=lazy_amount(application.requested_amount),
                sponsor=sponsor.name,
            ),
        )
    return application


def application_sponsor_confirm(*, application: Application, by: User) -> Application:
    """A confirmed member of the sponsor confirms: the application takes its case number and
    its process starts, so it reaches the officer. The row lock makes a second confirmation,
    at the same moment, find it already confirmed."""
    return process.run(
        process.Step.SPONSOR_CONFIRM, application, partial(_sponsor_confirm, application=application, by=by), by=by
    )


def _sponsor_confirm(*, application: Application, by: User) -> Application:
    with service_transaction():
        application = lock_application(application)
        access.require(access.may_submit_for(application.organisation))
        _check_submittable_draft(application, (Application.Status.AWAITING_SPONSOR,))
        before = application.status
        transition(application, "sponsor_confirm", by=by, what=_("bekräfta ansökan som medsökare"), kwargs={"by": by})
        record_event(
            application,
            by=by,
            action="Bekräftad av medsökaren",
            from_state=before,
            to_state=application.status,
            note=_sponsor_of(application).name,
        )
        _take_case_number(application, by=by, before=before)
        notify_applicant(
            application,
            subject=gettext_lazy("Ansökan är bekräftad av medsökaren"),
            body=lazy_interpolate(
                gettext_lazy(
                    "%(sponsor)s har bekräftat ansökan. Den har fått diarienummer %(number)s "
                    "och går nu till handläggaren."
                ),
                sponsor=_sponsor_of(application).name,
                number=application.case_number,
            ),
            required=False,
        )
    return application


def application_sponsor_decline(*, application: Application, by: User, reason: str) -> Application:
    """The sponsor declines: the application goes back to the group as a draft, and the
    group is told why by e-mail."""
    if not reason.strip():
        raise ValidationError(_("Skriv varför ni avböjer, så att gruppen vet vad den kan göra."))
    if len(reason) > limits.NOTE:
        raise ValidationError(
            _("Högst %(limit)s tecken; texten har %(count)s. Korta den.") % {"limit": limits.NOTE, "count": len(reason)}
        )
    with transaction.atomic():
        application = lock_application(application)
        before = application.status
        transition(application, "sponsor_decline", by=by, what=_("avböja ansökan som medsökare"))
        application.save()
        sponsor = _sponsor_of(application)
        record_event(
            application,
            by=by,
            action="Avböjd av medsökaren",
            from_state=before,
            to_state=application.status,
            note=reason,
        )
        notify_applicant(
            application,
            subject=gettext_lazy("Medsökaren har avböjt ansökan"),
            body=lazy_interpolate(
                gettext_lazy(
                    "%(sponsor)s har avböjt att vara medsökare för ansökan. Skälet:\n\n"
                    "%(reason)s\n\nAnsökan är ett utkast igen. Ni kan ändra den och skicka "
                    "den till medsökaren på nytt."
                ),
                sponsor=sponsor.name,
                reason=reason,
            ),
        )
    return application


# --- withdrawal -----------------------------------------------------------------------------


def _check_withdrawable(application: Application, *, by: User) -> None:
    """Refuse, in Swedish, to withdraw what is not the person's own or is already decided."""
    access.require(access.is_applicant(by, application), _("Du kan bara återta din egen förenings ansökningar."))
    membership = Membership.objects.filter(organisation_id=application.organisation_id, user=by).first()
    access.require(access.may_withdraw(membership))
    if application.status not in Application.WITHDRAWABLE:
        if application.status in (*Application.GRANTED, Application.Status.REJECTED, Application.Status.CLOSED):
            raise ValidationError(
                _(
                    "Ansökan kan inte återtas: beslut är redan fattat i ärendet. Kontakta "
                    "handläggaren om ni inte vill ta emot bidraget."
                )
            )
        raise ValidationError(
            _("Ansökan kan inte återtas: den har status ”%(status)s”.") % {"status": application.get_status_display()}
        )


def application_withdraw(*, application: Application, by: User, note: str = "") -> Application:
    """Withdraw before a decision. A submitted case's process is cancelled in the same
    transaction, so no officer has anything more to do in it."""
    if len(note) > limits.NOTE:
        raise ValidationError(
            _("Högst %(limit)s tecken; texten har %(count)s. Korta den.") % {"limit": limits.NOTE, "count": len(note)}
        )
    application = Application.objects.select_related("organisation").get(pk=application.pk)  # as it is now
    # Refused before the process is touched; checked again under the row lock.
    _check_withdrawable(application, by=by)
    return process.run(
        process.Step.WITHDRAW, application, partial(_withdraw, application=application, by=by, note=note), by=by
    )


def _withdraw(*, application: Application, by: User, note: str) -> Application:
    with service_transaction():
        application = lock_application(application)
        _check_withdrawable(application, by=by)
        before = application.status
        transition(application, "withdraw", by=by, what=_("återta ansökan"))
        application.save()
        record_event(
            application, by=by, action="Ansökan återtagen", from_state=before, to_state=application.status, note=note
        )
    return application


def completion_answer(*, application: Application, by: User, answer: str, files: Sequence[Upload] = ()) -> Application:
    """The applicant answers the open completion request, with as many files as it needs
    (Document kind completion); the case returns to the officer. The files are stored first,
    outside the transaction, and all removed again if the answer is refused: a completion
    keeps all its files or none."""
    if not answer.strip():
        raise ValidationError(_("Skriv ett svar på kompletteringsbegäran."))
    if len(answer) > limits.LONG_TEXT:
        raise ValidationError(
            _("Högst %(limit)s tecken; svaret har %(count)s. Korta det.")
            % {"limit": limits.LONG_TEXT, "count": len(answer)}
        )
    files = list(files)
    if files:
        access.require(
            access.is_applicant(by, application), _("Du kan bara lägga till filer i din egen förenings ansökningar.")
        )
        if application.status != Application.Status.AWAITING_COMPLETION:
            raise ValidationError(_("Det går inte att lägga till filer i ärendet i dess nuvarande läge."))
    stored: list[Stored] = []
    try:
        for upload in files:
            stored.append(
                store_file(
                    application=application,
                    folder=Document.Kind.COMPLETION,
                    filename=upload.filename,
                    content=upload.content,
                )
            )
        return process.run(
            process.Step.ANSWER_COMPLETION,
            application,
            partial(_completion_answer, application=application, by=by, answer=answer, files=list(zip(files, stored))),
            by=by,
        )
    except BaseException:
        for key, _digest in stored:
            discard_file(key)
        raise


def _completion_answer(
    *, application: Application, by: User, answer: str, files: list[tuple[Upload, Stored]]
) -> Application:
    with service_transaction():
        application = lock_application(application)
        before = application.status
        transition(application, "complete", by=by, what=_("skicka in en komplettering"))
        request = application.completion_requests.filter(answered_at__isnull=True).select_for_update().first()
        if request is not None:
            request.answer = answer
            request.answered_at = timezone.now()
            request.save(update_fields=["answer", "answered_at"])
        application.save()
        for upload, stored in files:
            document_create(application=application, kind=Document.Kind.COMPLETION, upload=upload, stored=stored, by=by)
            record_event(application, by=by, action="Fil bifogad", note=upload.filename)
        record_event(
            application,
            by=by,
            action="Komplettering inkommen",
            from_state=before,
            to_state=application.status,
            note=answer,
        )
        staff_notices.notice_create(application=application, kind=StaffNotice.Kind.COMPLETION_ANSWER)
    return application


# --- a repeat application -------------------------------------------------------------------

# How many earlier applications the apply page offers to start from.
EARLIER_OFFERED = 5


def earlier_applications(*, call: Call, organisations: Iterable[Organisation]) -> list[Application]:
    """The associations' earlier applications to the call's programme that a new one can
    start from, newest first: sent ones (a draft is no application yet), to another call."""
    return list(
        Application.objects.filter(
            organisation__in=list(organisations),
            call__programme_id=call.programme_id,
        )
        .exclude(status=Application.Status.DRAFT)
        .exclude(case_number="")
        .exclude(call=call)
        .select_related("organisation", "call")
        .order_by("-call__year", "-created_at", "-pk")[:EARLIER_OFFERED]
    )


def shifted_period(call: Call, start: date, end: date) -> tuple[date, date]:
    """A previous application's period a year on; if that does not fit the call, the call's
    budget year (1 January – 31 December)."""
    shifted = (limits.years_added(start, 1), limits.years_added(end, 1))
    if not period_problems(call, *shifted):
        return shifted
    return date(call.year, 1, 1), date(call.year, 12, 31)


def application_start_from(*, call: Call, organisation: Organisation, by: User, previous: Application) -> Application:
    """A new draft to the call made from the association's earlier application to the same
    programme: its title, description, answers, amount inputs and budget, the period a year
    on, and the priority area and target group while the programme still offers them. The
    association's profile files go with every application as they are. The applicant checks
    the draft and changes what differs before she submits it."""
    _check_may_apply(organisation=organisation, call=call, by=by)
    _check_call_open(call)
    if previous.organisation_id != organisation.pk:
        raise PermissionDenied(_("Du kan bara börja från en ansökan från din egen förening."))
    if previous.call.programme_id != call.programme_id:
        raise ValidationError(_("Du kan bara börja från en tidigare ansökan till samma bidrag."))
    if previous.status == Application.Status.DRAFT or not previous.case_number:
        raise ValidationError(_("Du kan bara börja från en ansökan som har skickats in."))
    programme = call.programme
    calculator = programme.get_calculator()
    inputs = {item.name: previous.inputs[item.name] for item in calculator.inputs if item.name in previous.inputs}
    start, end = shifted_period(call, previous.period_start, previous.period_end)
    with transaction.atomic():
        application = Application(
            call=call,
            organisation=organisation,
            created_by=by,
            title=previous.title,
            description=previous.description,
            period_start=start,
            period_end=end,
            priority_area=previous.priority_area if previous.priority_area in programme.priority_areas else "",
            target_group=previous.target_group if previous.target_group in programme.target_groups else "",
            answers=dict(previous.answers),
            inputs=inputs,
        )
        application.requested_amount = compute_requested_amount(
            call=call, inputs=inputs, stated_amount=previous.requested_amount
        )
        application.full_clean(exclude=["status", "created_by"])
        application.save()
        BudgetLine.objects.bulk_create(
            BudgetLine(application=application, kind=line.kind, label=line.label, amount=line.amount)
            for line in previous.budget_lines.all()
        )
        record_event(
            application,
            by=by,
            action="Utkast skapat",
            to_state=application.status,
            note=f"Från ansökan {previous.case_number}",
        )
    return application
