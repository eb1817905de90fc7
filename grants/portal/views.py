"""The applicant portal: thin views over the selectors, the services and the flow's
applicant steps. Every view on a case starts from application_for_user()."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from workflows import cases

from ..models import Application, Call, Document, FollowUpReport, is_staff_member
from ..selectors import application_for_user, applications_for_user, case_overview, open_calls, organisations_of
from ..services import apply
from .forms import ApplicationForm, BudgetFormSet, CompletionAnswerForm, FollowUpForm


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
            status__in=[FollowUpReport.Status.DUE, FollowUpReport.Status.COMPLETION_REQUESTED],
        ).select_related("application"),
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


@login_required
@require_POST
def follow_up_submit(request, pk):
    application = application_for_user(request.user, pk)
    form = FollowUpForm(request.POST, request.FILES)
    if form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("attachment", None)
        try:
            _attach(request, application, upload, Document.Kind.FOLLOW_UP)
            cases.case_submit_report(application=application, by=request.user, **data)
        except (ValidationError, PermissionDenied) as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "Tack! Återrapporten är inskickad.")
            return redirect("portal:application", pk=pk)
    return _render_detail(request, application, status=400, report_form=form)


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
        "report_form": FollowUpForm(),
        "letters": [d for d in application.documents.all() if d.kind in Document.SENT_BY_MUNICIPALITY],
        **forms,
    })
    return render(request, "portal/application_detail.html", context, status=status)
