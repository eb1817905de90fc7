"""The applicant portal: thin views over the selectors, the services and the flow's
applicant steps. Every view on a case starts from application_for_user()."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from workflows import cases

from ..models import (AGE_BANDS, GENDERS, Application, BudgetLine, Call, Document, FollowUpReport, Membership,
                      RepaymentClaim, is_staff_member)
from ..selectors import application_for_user, applications_for_user, case_overview, open_calls, organisations_of
from ..services import apply, follow_up
from .forms import ApplicationForm, BudgetFormSet, CompletionAnswerForm, ExtraCostFormSet, FollowUpReportForm


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if is_staff_member(request.user) or request.user.is_superuser:
        return redirect("/staff/")
    return redirect("portal:index")


def _errors_to_messages(request, exc):
    for message in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
        messages.error(request, message)


def _errors_to_form(form, exc):
    messages_ = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    for message in messages_:
        form.add_error(None, message)


@login_required
def index(request):
    organisations = organisations_of(request.user)
    return render(request, "portal/index.html", {
        "applications": applications_for_user(request.user),
        "calls": open_calls(),
        "organisations": organisations,
        "reports_due": FollowUpReport.objects.filter(
            application__organisation__memberships__user=request.user,
            application__organisation__memberships__status=Membership.Status.CONFIRMED, status__in=follow_up.OWED,
        ).select_related("application__organisation").order_by("due_on", "pk"),
        "today": timezone.localdate(),
    })


def _save_application(request, *, call, application=None):
    organisations = organisations_of(request.user)
    if not organisations.exists():
        messages.error(request, "Ditt konto är inte kopplat till någon förening ännu. Kontakta kommunen.")
        return redirect("portal:index")
    initial, budget_initial = {}, None
    if application is not None:
        initial = {
            "organisation": application.organisation, "title": application.title,
            "description": application.description, "period_start": application.period_start,
            "period_end": application.period_end, "requested_amount": application.requested_amount,
            "priority_area": application.priority_area, "target_group": application.target_group,
            **{f"input_{key}": value for key, value in application.inputs.items()},
        }
        budget_initial = [{"kind": line.kind, "label": line.label, "amount": line.amount}
                          for line in application.budget_lines.all()]
    form = ApplicationForm(request.POST or None, request.FILES or None, call=call, organisations=organisations,
                           initial=initial)
    uses_budget = call.programme.get_calculator().uses_budget
    budget = BudgetFormSet(request.POST or None, prefix="budget", initial=budget_initial) if uses_budget else None
    if request.method == "POST" and form.is_valid() and (budget is None or budget.is_valid()):
        lines = [(row["kind"], row["label"], row["amount"]) for row in (budget.cleaned_data if budget else [])
                 if row and row.get("label")]
        try:
            application = apply.application_save_draft(
                application=application, call=call, organisation=form.cleaned_data["organisation"], by=request.user,
                title=form.cleaned_data["title"], description=form.cleaned_data["description"],
                period_start=form.cleaned_data["period_start"], period_end=form.cleaned_data["period_end"],
                stated_amount=form.cleaned_data.get("requested_amount"), inputs=form.inputs(), budget_lines=lines,
                attachment=_upload(form.cleaned_data.get("attachment")),
                priority_area=form.cleaned_data.get("priority_area", ""),
                target_group=form.cleaned_data.get("target_group", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "Utkastet är sparat. Du kan fortsätta senare eller skicka in ansökan.")
            return redirect("portal:application", pk=application.pk)
    return render(request, "portal/application_form.html", {
        "form": form, "budget": budget, "call": call, "application": application,
    })


@login_required
def application_create(request, call_pk):
    call = get_object_or_404(Call.objects.select_related("programme__committee"), pk=call_pk)
    if not call.is_open():
        messages.error(request, f"Utlysningen ”{call.title}” är stängd sedan {call.closes_on:%Y-%m-%d}.")
        return redirect("portal:index")
    return _save_application(request, call=call)


@login_required
def application_edit(request, pk):
    application = application_for_user(request.user, pk)
    if application.status != Application.Status.DRAFT:
        messages.error(request, "Ansökan är redan inskickad och kan inte ändras.")
        return redirect("portal:application", pk=pk)
    return _save_application(request, call=application.call, application=application)


@login_required
def application_detail(request, pk):
    return _render_detail(request, application_for_user(request.user, pk))


@login_required
@require_POST
def application_submit(request, pk):
    application = application_for_user(request.user, pk)
    try:
        application = cases.case_submit(application=application, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, f"Ansökan är inskickad och har fått diarienummer {application.case_number}.")
    return redirect("portal:application", pk=pk)


@login_required
@require_POST
def application_withdraw(request, pk):
    application = application_for_user(request.user, pk)
    try:
        apply.application_withdraw(application=application, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, "Utkastet är återtaget.")
    return redirect("portal:application", pk=pk)


@login_required
@require_POST
def completion_answer(request, pk):
    application = application_for_user(request.user, pk)
    form = CompletionAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            _attach(request, application, form.cleaned_data.get("attachment"), Document.Kind.COMPLETION)
            cases.case_answer_completion(application=application, by=request.user,
                                         answer=form.cleaned_data["answer"])
        except (ValidationError, PermissionDenied) as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "Tack! Kompletteringen är inskickad och ärendet är tillbaka hos handläggaren.")
            return redirect("portal:application", pk=pk)
    return _render_detail(request, application, status=400, completion_form=form)


# --- the follow-up report ----------------------------------------------------------------

# Where a refusal from the services is shown when it is about no single field of the form.
REPORT_SECTIONS = {
    "participants_by_group": ("deltagare", "Deltagare"),
    "cost_lines": ("ekonomi", "Ekonomisk redovisning"),
}


def _report_of(application):
    report = getattr(application, "follow_up", None)
    if report is None:
        raise Http404("Ärendet har ingen återrapport.")
    return report


def _report_initial(report, budget_lines, saved_lines):
    """The form's values as saved: fields, the grid, each budget line's outcome (matched by
    post and budget), and the unbudgeted costs for the extra rows."""
    initial = {"what_was_done": report.what_was_done, "outcome": report.outcome, "sessions": report.sessions,
               "own_contribution": report.own_contribution}
    for index, band in enumerate(AGE_BANDS):
        for gender, count in (report.participants_by_group.get(band) or {}).items():
            initial[FollowUpReportForm.participant_field(index, gender)] = count
    unmatched = list(saved_lines)
    for line in budget_lines:
        match = next((saved for saved in unmatched if saved.label == line.label and saved.budgeted == line.amount),
                     None)
        if match is not None:
            unmatched.remove(match)
            initial[f"actual_{line.pk}"] = match.actual
    extra = [{"label": line.label, "actual": line.actual} for line in unmatched]
    return initial, extra


def _report_errors(form, extra, exc):
    """A refusal from the services, placed at the field it is about, or at its section."""
    sections = {}
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or "Du har inte behörighet att göra detta.")
        return sections
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return sections
    for key, errors in exc.message_dict.items():
        if key in form.fields:
            form.add_error(key, errors)
        elif key in REPORT_SECTIONS:
            sections.setdefault(key, []).extend(errors)
        else:
            for message in errors:
                form.add_error(None, message)
    return sections


def _report_summary(form, extra, sections):
    """Every error of the page for the summary at the top: (link target or None, what, message)."""
    summary = [(None, "", message) for message in form.non_field_errors()]
    for field in form:
        summary += [(field.id_for_label, field.label, error) for error in field.errors]
    for key, messages_ in sections.items():
        anchor, title = REPORT_SECTIONS[key]
        summary += [(anchor, title, message) for message in messages_]
    if extra is not None:
        for number, row in enumerate(extra, start=1):
            for field in row:
                summary += [(field.id_for_label, f"Övrig kostnad, rad {number}", error) for error in field.errors]
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
    context = {"application": application, "report": report, "owed": owed, "parts": parts,
               "saved_lines": saved_lines, "budget_lines": budget_lines,
               "income_lines": [line for line in application.budget_lines.all() if line.kind == BudgetLine.Kind.INCOME],
               "attachments": application.documents.filter(kind=Document.Kind.FOLLOW_UP),
               "genders": list(GENDERS.values()), "today": timezone.localdate(),
               "participants": (follow_up.participant_table(report.participants_by_group)
                                if report.participants_by_group else None),
               "statement": follow_up.cost_statement(saved_lines) if saved_lines else None}
    if request.method == "POST" and not owed:
        messages.error(request, f"Återrapporten har status ”{report.get_status_display()}” och kan inte ändras.")
        return redirect("portal:follow_up", pk=pk)
    if request.method == "GET":
        initial, extra_initial = _report_initial(report, budget_lines, saved_lines)
        form = FollowUpReportForm(parts=parts, budget_lines=budget_lines, initial=initial)
        extra = ExtraCostFormSet(prefix="extra", initial=extra_initial) if financial else None
        return render(request, "portal/follow_up_form.html", {**context, "form": form, "extra": extra})

    submitting = request.POST.get("action") != "save"
    form = FollowUpReportForm(request.POST, request.FILES, parts=parts, budget_lines=budget_lines,
                              submitting=submitting)
    extra = ExtraCostFormSet(request.POST, prefix="extra") if financial else None
    sections = {}
    if form.is_valid() and (extra is None or extra.is_valid()):
        fields = form.report_fields()
        cost_lines = None
        if financial:
            cost_lines = form.budget_cost_lines() + [(row["label"], None, row["actual"])
                                                     for row in extra.cleaned_data if row.get("label")]
        upload = _upload(form.cleaned_data.get("attachment"))
        try:
            if submitting:
                cases.case_submit_report(application=application, by=request.user, attachment=upload,
                                         cost_lines=cost_lines, **fields)
            else:
                follow_up.follow_up_save_draft(report=report, by=request.user, attachment=upload,
                                               cost_lines=cost_lines, **fields)
        except (ValidationError, PermissionDenied) as exc:
            sections = _report_errors(form, extra, exc)
        else:
            if submitting:
                messages.success(request, "Tack! Återrapporten är inskickad. Handläggaren granskar den och du "
                                          "får besked här och via e-post.")
                return redirect("portal:application", pk=pk)
            messages.success(request, "Återrapporten är sparad men inte inskickad. Du kan fortsätta senare; "
                                      f"den ska vara inskickad senast {report.due_on:%Y-%m-%d}.")
            return redirect("portal:follow_up", pk=pk)
    summary = _report_summary(form, extra, sections)
    return render(request, "portal/follow_up_form.html", {
        **context, "form": form, "extra": extra, "sections": sections, "summary": summary,
        "file_not_kept": bool(request.FILES.get("attachment")),
    }, status=400)


def _upload(upload):
    """A checked upload (the form's UploadField has validated it) as the services take it."""
    if not upload:
        return None
    return apply.Upload(filename=upload.name, content_type=upload.checked_content_type, content=upload.read())


def _attach(request, application, upload, kind):
    """Store a checked upload on the case."""
    if upload:
        upload = _upload(upload)
        apply.application_attach(application=application, by=request.user, filename=upload.filename,
                                 content_type=upload.content_type, content=upload.content, kind=kind)


def _render_detail(request, application, status=200, **forms):
    context = case_overview(application.pk)
    application = context["application"]
    context.update({
        "problems": apply.check_submittable(application) if application.status == Application.Status.DRAFT else [],
        "open_request": next((r for r in application.completion_requests.all() if r.answered_at is None), None),
        "completion_form": CompletionAnswerForm(),
        "letters": [d for d in application.documents.all() if d.kind in Document.SENT_BY_MUNICIPALITY],
        "claim": RepaymentClaim.objects.filter(application=application).first() if context["follow_up"] else None,
        **forms,
    })
    return render(request, "portal/application_detail.html", context, status=status)
