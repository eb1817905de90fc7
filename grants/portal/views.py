"""The applicant portal: thin views over the selectors, the services and the flow's
applicant steps. Every view on a case starts from application_for_user()."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from .. import access, questions, required_attachments
from ..calculators import amount_rule, kronor
from ..models import (
    AGE_BANDS,
    GENDERS,
    Application,
    BudgetLine,
    Call,
    CaseMessage,
    Document,
    FollowUpReport,
    Membership,
    Organisation,
    OrganisationFile,
    RepaymentClaim,
)
from ..selectors import (
    application_for_sponsor,
    application_for_user,
    applications_for_sponsor,
    applications_for_user,
    case_overview,
    open_calls,
    organisations_of,
)
from ..services import apply, follow_up
from ..services import messages as case_messages_service
from ..stages import Expected, case_stage
from ..web import error_summary, refusal_messages, refusal_to_form, refusal_to_messages
from .accounts import email_confirmed_required
from .forms import (
    AmountForm,
    AttachmentForm,
    BudgetFormSet,
    CompletionAnswerForm,
    DetailsForm,
    ExtraCostFormSet,
    FollowUpReportForm,
    MessageForm,
    SponsorDeclineForm,
    WithdrawForm,
)
from .paging import page_of


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if access.works_in_staff_interface(request.user):
        return redirect("/staff/")
    if access.is_reviewer(request.user):
        return redirect("reviews:mine")
    return redirect("portal:index")


@login_required
def index(request):
    organisations = organisations_of(request.user)
    return render(
        request,
        "portal/index.html",
        {
            "applications": page_of(applications_for_user(request.user).order_by("-created_at", "-pk"), request),
            "sponsor_requests": applications_for_sponsor(request.user)
            .filter(status=Application.Status.AWAITING_SPONSOR)
            .order_by("call__closes_on", "pk"),
            "calls": open_calls(),
            "organisations": organisations,
            "reports_due": FollowUpReport.objects.filter(
                access.confirmed_member(request.user, via="application__organisation"),
                status__in=follow_up.OWED,
            )
            .select_related("application__organisation")
            .order_by("due_on", "pk"),
            "today": timezone.localdate(),
        },
    )


# --- applying, step by step --------------------------------------------------------------
#
# 1 Sökande och projekt ─▶ (Frågor) ─▶ Belopp ─▶ Bilagor ─▶ Granska och skicka in
#
# Each step saves the draft through its own service and goes on to the next; the last lists
# every answer with a link back to its step, and what still stops the submission. Step 1 of
# a new application is the call's "apply" URL, as the draft does not exist before it is saved.
# "Frågor", the programme's own questions (grants.questions), is a step only when the
# programme has some; the other steps are the same for every programme.

STEPS = (
    ("sokande", gettext_lazy("Sökande och projekt")),
    ("fragor", gettext_lazy("Frågor")),
    ("belopp", gettext_lazy("Belopp")),
    ("bilagor", gettext_lazy("Bilagor")),
    ("granska", gettext_lazy("Granska och skicka in")),
)
STEP_SLUGS = [slug for slug, _title in STEPS]


def _steps(programme):
    """The steps of an application to the programme, as (slug, title)."""
    return [(slug, title) for slug, title in STEPS if slug != "fragor" or programme.application_questions]


def _posted(request):
    """The posted data, or None on GET: a POST with no fields is still a POST to validate."""
    return request.POST if request.method == "POST" else None


def _step_nav(current, steps, application=None):
    """The step indicator: one dict per step, with a link to every step of a saved draft."""
    return [
        {
            "number": number,
            "slug": slug,
            "title": title,
            "current": slug == current,
            "url": reverse("portal:step", args=[application.pk, slug]) if application is not None else None,
        }
        for number, (slug, title) in enumerate(steps, start=1)
    ]


def _step_render(request, template, *, step, call, application=None, status=200, **context):
    steps = _steps(call.programme)
    slugs = [slug for slug, _title in steps]
    index = slugs.index(step)
    previous = slugs[index - 1] if index else None
    return render(
        request,
        template,
        {
            "call": call,
            "application": application,
            "steps": _step_nav(step, steps, application),
            "step": step,
            "step_number": index + 1,
            "step_title": steps[index][1],
            "step_count": len(steps),
            "back_url": (
                reverse("portal:step", args=[application.pk, previous])
                if previous and application
                else reverse("portal:index")
            ),
            **context,
        },
        status=status,
    )


def _next_step(application, step):
    slugs = [slug for slug, _title in _steps(application.call.programme)]
    return redirect("portal:step", pk=application.pk, step=slugs[slugs.index(step) + 1])


def _draft_of(request, pk):
    """The person's own application, and whether it is still a draft she may change (if not,
    a message says why)."""
    application = application_for_user(request.user, pk)
    if application.status != Application.Status.DRAFT:
        messages.error(
            request,
            _("Ansökan kan inte längre ändras: den har status ”%(status)s”.")
            % {"status": application.get_status_display()},
        )
        return application, False
    return application, True


@email_confirmed_required
@require_http_methods(["GET", "POST"])
def application_create(request, call_pk):
    """Step 1 of a new application to a call: saving it creates the draft."""
    call = get_object_or_404(Call.objects.select_related("programme__committee"), pk=call_pk)
    if not call.is_open():
        messages.error(
            request,
            _("Utlysningen ”%(title)s” är stängd sedan %(date)s.")
            % {"title": call.title, "date": f"{call.closes_on:%Y-%m-%d}"},
        )
        return redirect("portal:index")
    organisations = organisations_of(request.user)
    if not organisations.exists():
        messages.error(request, _("Ditt konto är inte kopplat till någon förening ännu. Kontakta kommunen."))
        return redirect("portal:index")
    if request.method == "GET" and "tom" not in request.GET:
        earlier = apply.earlier_applications(call=call, organisations=organisations)
        if earlier:
            return render(
                request, "portal/apply_start.html", {"call": call, "latest": earlier[0], "others": earlier[1:]}
            )
    return _details_step(request, call=call, organisations=organisations)


@email_confirmed_required
@require_POST
def application_start_from(request, call_pk):
    """A new draft to the call made from one of the association's earlier applications to
    the programme; the applicant lands on its check page, to change what differs or send it."""
    call = get_object_or_404(Call.objects.select_related("programme__committee"), pk=call_pk)
    try:
        previous_pk = int(request.POST.get("previous", ""))
    except ValueError:
        raise Http404(_("Ansökan finns inte.")) from None
    previous = application_for_user(request.user, previous_pk)
    try:
        application = apply.application_start_from(
            call=call, organisation=previous.organisation, by=request.user, previous=previous
        )
    except ValidationError as exc:
        refusal_to_messages(request, exc)
        return redirect("portal:index")
    messages.success(
        request,
        _(
            "Ansökan är ifylld från er ansökan %(number)s, med perioden flyttad ett år. "
            "Kontrollera uppgifterna och ändra det som skiljer sig innan du skickar in."
        )
        % {"number": previous.case_number},
    )
    return redirect("portal:step", pk=application.pk, step="granska")


@email_confirmed_required
def application_edit(request, pk):
    """The old "change the draft" address: into the steps."""
    application, editable = _draft_of(request, pk)
    if not editable:
        return redirect("portal:application", pk=pk)
    return redirect("portal:step", pk=pk, step=STEP_SLUGS[0])


@email_confirmed_required
@require_http_methods(["GET", "POST"])
def application_step(request, pk, step):
    if step not in STEP_SLUGS:
        raise Http404(_("Steget finns inte."))
    application, editable = _draft_of(request, pk)
    if not editable:
        return redirect("portal:application", pk=pk)
    if step not in [slug for slug, _title in _steps(application.call.programme)]:
        raise Http404(_("Steget finns inte."))
    if step == "granska":
        if request.method == "POST":
            return redirect("portal:step", pk=pk, step=step)
        return _check_step(request, application)
    return {"sokande": _details_step, "fragor": _questions_step, "belopp": _amount_step, "bilagor": _attachments_step}[
        step
    ](request, call=application.call, application=application)


def _details_step(request, *, call, application=None, organisations=None):
    initial = {}
    if application is not None:
        initial = {
            "title": application.title,
            "description": application.description,
            "period_start": application.period_start,
            "period_end": application.period_end,
            "priority_area": application.priority_area,
            "target_group": application.target_group,
        }
    form = DetailsForm(_posted(request), call=call, organisations=organisations, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = apply.application_save_details(
                application=application,
                call=call,
                by=request.user,
                organisation=data["organisation"] if application is None else application.organisation,
                title=data["title"],
                description=data["description"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                priority_area=data.get("priority_area", ""),
                target_group=data.get("target_group", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, _("Utkastet är sparat."))
            return _next_step(application, "sokande")
    return _step_render(
        request,
        "portal/apply_details.html",
        step="sokande",
        call=call,
        application=application,
        form=form,
        summary=error_summary(form),
    )


def _questions_step(request, *, call, application):
    """The programme's own questions, as its administrator has configured them."""
    form = questions.form_for(call.programme, application.answers, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            application = apply.application_save_answers(
                application=application, by=request.user, answers=form.answers()
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, _("Utkastet är sparat."))
            # A saved answer may show follow-up questions: the step shows them before going on
            # (no JavaScript needed), as it does when the applicant asks for them.
            config = call.programme.application_questions
            shown_before = set(form.cleaned_data.get(questions.SHOWN_FIELD, "").split())
            appeared = {
                q["key"]
                for q in questions.visible(config, application.answers)
                if questions.is_conditional(q) and q["key"] not in shown_before
            }
            if request.POST.get("action") == "show" or appeared:
                if appeared:
                    messages.info(request, _("Svara också på följdfrågorna som visas nu."))
                return redirect("portal:step", pk=application.pk, step="fragor")
            return _next_step(application, "fragor")
    return _step_render(
        request,
        "portal/apply_questions.html",
        step="fragor",
        call=call,
        application=application,
        form=form,
        summary=error_summary(form),
    )


def _amount_step(request, *, call, application):
    calculator = call.programme.get_calculator()
    initial = {f"input_{key}": value for key, value in application.inputs.items()}
    if calculator.applicant_states_amount and application.requested_amount > 0:
        initial["requested_amount"] = application.requested_amount
    form = AmountForm(_posted(request), call=call, initial=initial)
    budget = None
    if calculator.uses_budget:
        budget = BudgetFormSet(
            _posted(request),
            prefix="budget",
            initial=[
                {"kind": line.kind, "label": line.label, "amount": line.amount}
                for line in application.budget_lines.all()
            ],
        )
    if request.method == "POST" and form.is_valid() and (budget is None or budget.is_valid()):
        lines = [
            (row["kind"], row["label"], row["amount"])
            for row in (budget.cleaned_data if budget else [])
            if row and row.get("label")
        ]
        try:
            application = apply.application_save_amount(
                application=application,
                by=request.user,
                stated_amount=form.cleaned_data.get("requested_amount"),
                inputs=form.inputs(),
                budget_lines=lines,
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, _("Utkastet är sparat."))
            return _next_step(application, "belopp")
    return _step_render(
        request,
        "portal/apply_amount.html",
        step="belopp",
        call=call,
        application=application,
        form=form,
        budget=budget,
        calculator=calculator,
        amount_rule=amount_rule(call.programme.calculator, call.programme.calculator_params),
        current_amount=kronor(application.requested_amount),
        summary=error_summary(form, budget, _("Budget")),
    )


def _profile_files(organisation):
    """The association's current profile files (the newest of each kind), which go with
    every application it makes."""
    current = {}
    for row in OrganisationFile.objects.filter(organisation=organisation):  # newest first within a kind
        current.setdefault(row.kind, row)
    return list(current.values())


def _attachments_step(request, *, call, application):
    documents = list(application.documents.filter(kind=Document.Kind.ATTACHMENT))
    rows = required_attachments.rows(call.programme, documents)
    form = AttachmentForm(_posted(request), request.FILES if request.method == "POST" else None, rows=rows)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("attachment")
        try:
            _attach(
                request,
                application,
                upload,
                Document.Kind.ATTACHMENT,
                attachment_key=form.cleaned_data.get("attachment_key") or "",
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            if upload:
                messages.success(request, _("Filen %(name)s är bifogad.") % {"name": upload.name})
            if request.POST.get("action") == "attach":
                return redirect("portal:step", pk=application.pk, step="bilagor")
            if not upload:
                messages.success(request, _("Utkastet är sparat."))
            return _next_step(application, "bilagor")
    return _step_render(
        request,
        "portal/apply_attachments.html",
        step="bilagor",
        call=call,
        application=application,
        form=form,
        summary=error_summary(form),
        attachment_rows=rows,
        attachments=required_attachments.others(call.programme, documents),
        profile_files=_profile_files(application.organisation),
        what_to_attach=[line.strip() for line in call.programme.what_to_attach.splitlines() if line.strip()],
        file_not_kept=request.method == "POST" and bool(request.FILES.get("attachment")),
    )


def _missing_inputs(application):
    return [_("Fyll i ”%(label)s” under Belopp.") % {"label": label} for label in apply.missing_inputs(application)]


def _missing_answers(application):
    """The programme's required questions the draft has not answered: (message, link to the question)."""
    url = reverse("portal:step", args=[application.pk, "fragor"])
    return [
        (
            _("Svara på frågan ”%(label)s” under Frågor.") % {"label": questions.label_of(question)},
            f"{url}#id_{questions.field_name(question)}",
        )
        for question in questions.missing_answers(application.call.programme, application.answers)
    ]


def _problems(application, refusals=()):
    """What stops the draft from being sent, as (Swedish message, link to the step where it is
    put right, or None), without repeats: the refusals of a submission just tried, what the
    programme's rule and its questions still need, then the services' own checks."""
    amount_url = reverse("portal:step", args=[application.pk, "belopp"])
    found = {}
    for message, url in [
        *((refusal, None) for refusal in refusals),
        *((answer.reason, None) for answer in [access.may_submit_for(application.organisation)] if not answer),
        *((message, amount_url) for message in _missing_inputs(application)),
        *_missing_answers(application),
        *((message, None) for message in apply.check_submittable(application)),
    ]:
        if found.get(message) is None:
            found[message] = url
    return list(found.items())


def _application_to_read(pk):
    """The application with what its check page and its sponsor's page show, in one go."""
    return (
        Application.objects.select_related(
            "call__programme__committee", "organisation__sponsor", "sponsor_confirmed_by"
        )
        .prefetch_related("budget_lines", "documents")
        .get(pk=pk)
    )


def _check_step(request, application, refusals=(), status=200):
    application = _application_to_read(application.pk)
    problems = _problems(application, refusals)
    group = application.organisation.kind == Organisation.Kind.INFORMAL_GROUP
    programme = application.call.programme
    return _step_render(
        request,
        "portal/apply_check.html",
        step="granska",
        call=application.call,
        application=application,
        problems=problems,
        status=status,
        # The applicant sees her answers to the programme's questions as they are now.
        question_rows=questions.answer_rows(
            questions.visible(programme.application_questions, application.answers), application.answers, removed=False
        ),
        attachment_rows=required_attachments.rows(programme, application.documents.all()),
        attachments=required_attachments.others(programme, application.documents.all()),
        profile_files=_profile_files(application.organisation),
        to_sponsor=group and not access.is_sponsor_contact(request.user, application),
    )


@email_confirmed_required
@require_POST
def application_submit(request, pk):
    """Send the draft from the check page: an association's reaches the officer with a case
    number; an informal group's goes to its sponsor to confirm first."""
    application, editable = _draft_of(request, pk)
    if not editable:
        return redirect("portal:application", pk=pk)
    missing = _missing_inputs(application) + [message for message, _url in _missing_answers(application)]
    to_sponsor = application.organisation.kind == Organisation.Kind.INFORMAL_GROUP and not access.is_sponsor_contact(
        request.user, application
    )
    try:
        if missing:
            raise ValidationError(missing)
        if to_sponsor:
            application = apply.application_ask_sponsor(application=application, by=request.user)
        else:
            application = apply.application_submit(application=application, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _check_step(request, application, refusals=refusal_messages(exc), status=400)
    if to_sponsor:
        messages.success(
            request,
            _(
                "Ansökan är skickad till %(sponsor)s. Den kommer till handläggaren när "
                "föreningen har bekräftat att den är medsökare."
            )
            % {"sponsor": application.organisation.sponsor.name},
        )
    else:
        messages.success(
            request,
            _(
                "Ansökan är inskickad och har fått diarienummer %(number)s. "
                "Mottagningskvittot kommer under Dokument och med e-post inom kort."
            )
            % {"number": application.case_number},
        )
    return redirect("portal:application", pk=pk)


# --- withdrawing -----------------------------------------------------------------------------


@email_confirmed_required
@require_http_methods(["GET", "POST"])
def application_withdraw(request, pk):
    """Withdraw before a decision, after a confirmation (a required tick box, no script)."""
    application = application_for_user(request.user, pk)
    if application.status not in Application.WITHDRAWABLE:
        messages.error(
            request,
            _("Ansökan kan inte återtas: den har status ”%(status)s”.") % {"status": application.get_status_display()},
        )
        return redirect("portal:application", pk=pk)
    form = WithdrawForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            apply.application_withdraw(application=application, by=request.user, note=form.cleaned_data["note"].strip())
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, _("Ansökan är återtagen. Handläggaren behandlar den inte vidare."))
            return redirect("portal:application", pk=pk)
    return render(
        request,
        "portal/withdraw.html",
        {"application": application, "form": form, "summary": error_summary(form)},
        status=400 if form.errors else 200,
    )


# --- an informal group's sponsor -------------------------------------------------------------


def _render_sponsor_page(request, application, decline_form=None, status=200):
    application = _application_to_read(application.pk)
    return render(
        request,
        "portal/sponsor_application.html",
        {
            "application": application,
            "attachments": [d for d in application.documents.all() if d.kind == Document.Kind.ATTACHMENT],
            "decline_form": decline_form or SponsorDeclineForm(),
            "summary": error_summary(decline_form) if decline_form is not None else [],
        },
        status=status,
    )


@login_required
def sponsor_application(request, pk):
    """The application as its sponsor's confirmed members read it, to confirm or decline."""
    return _render_sponsor_page(request, application_for_sponsor(request.user, pk))


@login_required
@require_POST
def sponsor_confirm(request, pk):
    application = application_for_sponsor(request.user, pk)
    try:
        application = apply.application_sponsor_confirm(application=application, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        refusal_to_messages(request, exc)
    else:
        messages.success(
            request,
            _("Tack! Ni har bekräftat ansökan. Den har fått diarienummer %(number)s och går nu till handläggaren.")
            % {"number": application.case_number},
        )
    return redirect("portal:sponsor_application", pk=pk)


@login_required
@require_POST
def sponsor_decline(request, pk):
    application = application_for_sponsor(request.user, pk)
    form = SponsorDeclineForm(request.POST)
    if form.is_valid():
        try:
            apply.application_sponsor_decline(
                application=application, by=request.user, reason=form.cleaned_data["reason"].strip()
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                _("Ni har avböjt ansökan. %(group)s har fått ert skäl med e-post.")
                % {"group": application.organisation.name},
            )
            return redirect("portal:index")
    return _render_sponsor_page(request, application, decline_form=form, status=400)


# --- the case page ---------------------------------------------------------------------------


@login_required
def application_detail(request, pk):
    return _render_detail(request, application_for_user(request.user, pk))


@login_required
@require_POST
def completion_answer(request, pk):
    application = application_for_user(request.user, pk)
    form = CompletionAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            apply.completion_answer(
                application=application,
                by=request.user,
                answer=form.cleaned_data["answer"],
                files=[_upload(upload) for upload in form.cleaned_data["attachment"]],
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, _("Tack! Kompletteringen är inskickad och ärendet är tillbaka hos handläggaren."))
            return redirect("portal:application", pk=pk)
    return _render_detail(request, application, status=400, completion_form=form)


@login_required
@require_POST
def message_write(request, pk):
    """The applicant writes to the officer in the case (with files), from the case page."""
    application = application_for_user(request.user, pk)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            case_messages_service.message_send(
                application=application,
                by=request.user,
                body=form.cleaned_data["body"],
                files=[_upload(upload) for upload in form.cleaned_data["files"]],
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, _("Tack! Meddelandet är skickat till handläggaren."))
            return redirect(reverse("portal:application", args=[pk]) + "#meddelanden")
    return _render_detail(request, application, status=400, message_form=form)


# --- the follow-up report ----------------------------------------------------------------

# Where a refusal from the services is shown when it is about no single field of the form.
REPORT_SECTIONS = {
    "participants_by_group": ("deltagare", gettext_lazy("Deltagare")),
    "cost_lines": ("ekonomi", gettext_lazy("Ekonomisk redovisning")),
}


def _report_of(application):
    report = getattr(application, "follow_up", None)
    if report is None:
        raise Http404(_("Ärendet har ingen återrapport."))
    return report


def _report_initial(report, budget_lines, saved_lines):
    """The form's values as saved: fields, the grid, each budget line's outcome (matched by
    post and budget), and the unbudgeted costs for the extra rows."""
    initial = {
        "what_was_done": report.what_was_done,
        "outcome": report.outcome,
        "sessions": report.sessions,
        "own_contribution": report.own_contribution,
    }
    for index, band in enumerate(AGE_BANDS):
        for gender, count in (report.participants_by_group.get(band) or {}).items():
            initial[FollowUpReportForm.participant_field(index, gender)] = count
    unmatched = list(saved_lines)
    for line in budget_lines:
        match = next(
            (saved for saved in unmatched if saved.label == line.label and saved.budgeted == line.amount), None
        )
        if match is not None:
            unmatched.remove(match)
            initial[f"actual_{line.pk}"] = match.actual
    extra = [{"label": line.label, "actual": line.actual} for line in unmatched]
    return initial, extra


def _report_summary(form, extra, sections):
    """Every error of the page for the summary at the top: the form's, the refusals shown at
    their section, then the extra cost rows'."""
    summary = error_summary(form)
    for key, messages_ in sections.items():
        anchor, title = REPORT_SECTIONS[key]
        summary += [(anchor, title, message) for message in messages_]
    if extra is not None:
        summary += error_summary(formset=extra, formset_what=_("Övrig kostnad"))
    return summary


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_report(request, pk):
    """The grantee's follow-up report: the parts the programme asks for, saved as a draft
    ("Spara och fortsätt senare") or submitted, which moves the case on to the officer."""
    application = application_for_user(request.user, pk)
    report = _report_of(application)
    parts = application.call.programme.follow_up_parts
    financial = "financial_statement" in parts
    budget_lines = list(application.budget_lines.filter(kind=BudgetLine.Kind.COST)) if financial else []
    saved_lines = list(report.cost_lines.all())
    owed = report.status in follow_up.OWED
    context = {
        "application": application,
        "report": report,
        "owed": owed,
        "parts": parts,
        "saved_lines": saved_lines,
        "budget_lines": budget_lines,
        "income_lines": [line for line in application.budget_lines.all() if line.kind == BudgetLine.Kind.INCOME],
        "attachments": application.documents.filter(kind=Document.Kind.FOLLOW_UP),
        "genders": list(GENDERS.values()),
        "today": timezone.localdate(),
        "participants": (
            follow_up.participant_table(report.participants_by_group) if report.participants_by_group else None
        ),
        "statement": follow_up.cost_statement(saved_lines) if saved_lines else None,
    }
    if request.method == "POST" and not owed:
        messages.error(
            request,
            _("Återrapporten har status ”%(status)s” och kan inte ändras.") % {"status": report.get_status_display()},
        )
        return redirect("portal:follow_up", pk=pk)
    if request.method == "GET":
        initial, extra_initial = _report_initial(report, budget_lines, saved_lines)
        form = FollowUpReportForm(parts=parts, budget_lines=budget_lines, initial=initial)
        extra = ExtraCostFormSet(prefix="extra", initial=extra_initial) if financial else None
        return render(request, "portal/follow_up_form.html", {**context, "form": form, "extra": extra})

    submitting = request.POST.get("action") != "save"
    form = FollowUpReportForm(
        request.POST, request.FILES, parts=parts, budget_lines=budget_lines, submitting=submitting
    )
    extra = ExtraCostFormSet(request.POST, prefix="extra") if financial else None
    sections = {}
    if form.is_valid() and (extra is None or extra.is_valid()):
        fields = form.report_fields()
        cost_lines = None
        if financial:
            cost_lines = form.budget_cost_lines() + [
                (row["label"], None, row["actual"]) for row in extra.cleaned_data if row.get("label")
            ]
        upload = _upload(form.cleaned_data.get("attachment"))
        try:
            if submitting:
                follow_up.follow_up_submit(
                    report=report, by=request.user, attachment=upload, cost_lines=cost_lines, **fields
                )
            else:
                follow_up.follow_up_save_draft(
                    report=report, by=request.user, attachment=upload, cost_lines=cost_lines, **fields
                )
        except (ValidationError, PermissionDenied) as exc:
            sections = refusal_to_form(form, exc, set_aside=REPORT_SECTIONS)
        else:
            if submitting:
                messages.success(
                    request,
                    _(
                        "Tack! Återrapporten är inskickad. Handläggaren granskar den och du "
                        "får besked här och via e-post."
                    ),
                )
                return redirect("portal:application", pk=pk)
            messages.success(
                request,
                _(
                    "Återrapporten är sparad men inte inskickad. Du kan fortsätta senare; "
                    "den ska vara inskickad senast %(date)s."
                )
                % {"date": f"{report.due_on:%Y-%m-%d}"},
            )
            return redirect("portal:follow_up", pk=pk)
    summary = _report_summary(form, extra, sections)
    return render(
        request,
        "portal/follow_up_form.html",
        {
            **context,
            "form": form,
            "extra": extra,
            "sections": sections,
            "summary": summary,
            "file_not_kept": bool(request.FILES.get("attachment")),
        },
        status=400,
    )


def _upload(upload):
    """A checked upload (the form's UploadField has validated it) as the services take it."""
    if not upload:
        return None
    return apply.Upload(filename=upload.name, content_type=upload.checked_content_type, content=upload.read())


def _attach(request, application, upload, kind, attachment_key=""):
    """Store a checked upload on the case."""
    if upload:
        upload = _upload(upload)
        apply.application_attach(
            application=application,
            by=request.user,
            filename=upload.filename,
            content_type=upload.content_type,
            content=upload.content,
            kind=kind,
            attachment_key=attachment_key,
        )


# What the case page shows. The case's history leaves out what is staff's own: a declared
# conflict of interest, the officer's assessment before the decision, a letter that failed.
INTERNAL_EVENTS = {"Jäv anmält", "Bedömning klar", "Protokollet tillkännagivet", "Intern anteckning"}
# Events whose note is a message to the applicant (or from her), shown under Meddelanden.
MESSAGE_EVENTS = {
    "Avböjd av medsökaren",
    "Ansökan återtagen",
    "Återrapport godkänd",
    "Komplettering av återrapport begärd",
    "Återrapport underkänd",
    "Återkrav beslutat",
}


def _is_for_applicant(event):
    return event.action not in INTERNAL_EVENTS and not event.action.endswith("kunde inte skapas")


def _row(when, who, what, text, *, attachments=(), unread=False):
    return {"when": when, "who": who, "what": what, "text": text, "attachments": list(attachments), "unread": unread}


def _person(user):
    return user.get_full_name() or user.username


def case_messages(application, decision, thread=()):
    """Every message between the municipality and the applicant, oldest first, as dicts: when,
    who, what, text, attachments, unread (an officer's message the applicant has not seen).
    thread: the case's CaseMessages of kind message (never the notes)."""
    rows = []
    for request_ in application.completion_requests.all():
        rows.append(
            _row(
                request_.requested_at,
                _("Handläggaren"),
                _("Begäran om komplettering, svara senast %(date)s") % {"date": f"{request_.due_on:%Y-%m-%d}"},
                request_.message,
            )
        )
        if request_.answered_at:
            rows.append(
                _row(
                    request_.answered_at,
                    application.organisation.name,
                    _("Svar på kompletteringen"),
                    request_.answer,
                )
            )
    if decision is not None:
        text = decision.reasons + (f"\n\n{_('Villkor')}: {decision.conditions}" if decision.conditions else "")
        rows.append(
            _row(
                decision.decided_at,
                _("Nämnden") if decision.by_committee else _("Handläggaren"),
                _("Beslut: %(outcome)s") % {"outcome": decision.get_outcome_display()},
                text,
            )
        )
    for event in application.events.all():
        if event.action in MESSAGE_EVENTS and event.note:
            who = _person(event.actor) if event.actor else _("Systemet")
            rows.append(_row(event.created_at, who, event.label, event.note))
    for message in thread:
        if message.kind != CaseMessage.Kind.MESSAGE:  # a note is the staff's own, never shown here
            continue
        rows.append(
            _row(
                message.created_at,
                _person(message.author),
                _("Meddelande från handläggaren") if message.from_staff else _("Meddelande till handläggaren"),
                message.body,
                attachments=message.attachments.all(),
                unread=message.from_staff and message.read_at is None,
            )
        )
    return sorted(rows, key=lambda row: row["when"])


def _thread(application):
    """The case's messages (no notes) with their authors and files, in two queries."""
    return list(
        CaseMessage.objects.filter(application=application, kind=CaseMessage.Kind.MESSAGE)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def _todo_with_links(application, todo):
    """What is expected of the applicant (grants.stages), each linked to where she does it:
    a step of the portal, or a part of the case page."""
    urls = {
        Expected.APPLICATION: reverse("portal:step", args=[application.pk, "granska"]),
        Expected.COMPLETION: "#komplettering",
        Expected.FOLLOW_UP_REPORT: reverse("portal:follow_up", args=[application.pk]),
        Expected.REPAYMENT: "#aterrapport",
    }
    return [{"text": item.text, "due": item.due, "url": urls[item.expected], "link": item.link} for item in todo]


def _render_detail(request, application, status=200, **forms):
    context = case_overview(application.pk)
    application = context["application"]
    decision, report = context["decision"], context["follow_up"]
    open_request = next((r for r in application.completion_requests.all() if r.answered_at is None), None)
    claim = RepaymentClaim.objects.filter(application=application).first() if report else None
    thread = _thread(application)
    stage = case_stage(
        application=application, decision=decision, report=report, claim=claim, open_request=open_request
    )
    context.update(
        {
            "open_request": open_request,
            "completion_form": CompletionAnswerForm(),
            "letters": [d for d in application.documents.all() if d.kind == Document.Kind.DECISION_LETTER],
            # The receipt is made in the background just after the submission (documents.tasks).
            "receipt_pending": bool(application.case_number)
            and not any(d.kind == Document.Kind.RECEIPT for d in application.documents.all()),
            "claim": claim,
            "progress": stage.progress,
            "todo": _todo_with_links(application, stage.todo),
            "waiting": stage.waiting,
            "awaiting_protocol": stage.awaiting_protocol,
            "case_messages": case_messages(application, decision, thread),
            "message_form": MessageForm(),
            "may_write": application.status not in case_messages_service.NOT_SENT,
            "events": [event for event in application.events.all() if _is_for_applicant(event)],
            # Only the signatory and the contact withdraw; a board member is not offered the link.
            "withdrawable": application.status in Application.WITHDRAWABLE
            and bool(
                access.may_withdraw(
                    Membership.objects.filter(organisation_id=application.organisation_id, user=request.user).first()
                )
            ),
            **forms,
        }
    )
    context["completion_summary"] = error_summary(context["completion_form"]) if "completion_form" in forms else []
    context["message_summary"] = error_summary(context["message_form"]) if "message_form" in forms else []
    response = render(request, "portal/application_detail.html", context, status=status)
    # Shown now as new; read from now on (one write, only when there was something new).
    if any(message.from_staff and message.read_at is None for message in thread):
        case_messages_service.messages_mark_read(application=application, from_staff=True)
    return response
