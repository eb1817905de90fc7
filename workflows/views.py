"""Staff task views. Each validates a small form, calls one service, then completes the task.

They run inside viewflow's task wrapper, which has already checked that the user owns the
task and, on POST, holds the flow's lock and a transaction.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView
from viewflow.workflow import STATUS
from viewflow.workflow.flow.views import DetailProcessView
from viewflow.workflow.models import Task

from documents import letters
from grants import access
from grants.models import Assessment, Decision, Document, FollowUpReport
from grants.services import assess, decide, follow_up
from grants.web import file_response, refusal_to_form

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def plain_amount(amount):
    """An amount for a form's field as a person would type it: 30000, not 30000.00."""
    if amount is not None and amount == amount.to_integral_value():
        return amount.quantize(1)
    return amount


_in_hand = ContextVar("activation_in_hand", default=None)


@contextmanager
def task_in_hand(activation):
    """While a task's page performs its service: the service's step finds the task here."""
    token = _in_hand.set(activation)
    try:
        yield activation
    finally:
        _in_hand.reset(token)


def activation_in_hand():
    """The activation of the task whose page is performing its service now, if any. The
    service's step (workflows.process) then only does its work: the page holds the task
    and completes it."""
    return _in_hand.get()


def open_tasks(process):
    """The case's staff tasks waiting to be done, with their owners (one query)."""
    tasks = list(
        Task.objects.filter(process_id=process.pk, flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED])
        .select_related("owner")
        .order_by("created", "pk")
    )
    for task in tasks:
        task.process = process  # the case's process, with its application, for the permission checks
    return tasks


def next_task_url(request, process):
    """Where an officer goes on after a task: the case's next task if it is his (assigned to
    him: its form; waiting in the queue and his to take: he takes it, then its form), else None."""
    user = request.user
    for task in open_tasks(process):
        node = task.flow_task
        if task.owner_id == user.pk and node.can_execute(user, task):
            return node.reverse("execute", args=[process.pk, task.pk])
        if task.owner_id is None and node.can_assign(user, task):
            node.activation_class(task).assign(user)
            return node.reverse("execute", args=[process.pk, task.pk])
    return None


class TakeTaskView(View):
    """ "Ta och öppna": one POST takes a waiting task and opens its form (the task's own
    "take" URL, wrapped by viewflow with the lock and the check that he may take or do it)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        activation = request.activation
        task = activation.task
        if task.owner_id is None:
            activation.assign(request.user)
        return redirect(activation.flow_task.reverse("execute", args=[task.process_id, task.pk]))


class CasePageView(DetailProcessView):
    """The case page: what the case is, where it stands and its current task, with the case
    as on every task page (workflows/case_summary.html), in a fixed number of queries."""

    template_name = "workflows/case_page.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.pop("task_list", None)  # viewflow's task table: we show the current task instead
        process = self.object
        user = self.request.user
        application = process.application
        details = access.may_read_case_details(user, application)
        tasks = []
        if details:
            for task in open_tasks(process):
                node = task.flow_task
                if task.owner_id == user.pk and node.can_execute(user, task):
                    action = "open"
                elif task.owner_id is None and node.can_assign(user, task):
                    action = "take"
                else:
                    action = None
                tasks.append({"task": task, "title": node.task_title, "action": action, "node": node})
        context.update({"application": application, "details": bool(details), "tasks": tasks})
        return context

    def get_queryset(self):
        return super().get_queryset().select_related("application")


class CaseTaskView(FormView):
    template_name = "workflows/task.html"
    success_message = "Uppgiften är klar."

    @property
    def application(self):
        return self.request.activation.process.application

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["task"] = self.request.activation.task
        context["refusal"] = self.refusal()
        return context

    def refusal(self):
        """A reason this user cannot do the task at all, shown instead of the form."""
        return None

    def form_valid(self, form):
        refusal = self.refusal()
        if refusal:
            form.add_error(None, refusal)
            return self.form_invalid(form)
        try:
            self.perform_in_hand(form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
            return self.form_invalid(form)
        self.request.activation.execute()
        messages.success(self.request, f"{self.application.case_number}: {self.success_message}")
        return redirect(next_task_url(self.request, self.request.activation.process) or self.list_url())

    def list_url(self):
        """The officer's case list (the "lists" work), or the queue while there is none."""
        try:
            return reverse("workspace:list")
        except NoReverseMatch:
            return self.request.resolver_match.flow_viewset.reverse("queue")

    def perform_in_hand(self, data):
        with task_in_hand(self.request.activation):
            self.perform(data)

    def perform(self, data):
        raise NotImplementedError


# --- completeness ----------------------------------------------------------------------


class CompletenessForm(forms.Form):
    result = forms.ChoiceField(
        label="Är ansökan komplett?",
        widget=forms.RadioSelect,
        choices=[("complete", "Ja, ansökan är komplett"), ("completion", "Nej, begär komplettering")],
    )
    message = forms.CharField(label="Vad ska kompletteras?", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    due_on = forms.DateField(label="Svar senast", widget=DATE_INPUT, required=False)

    def clean(self):
        data = super().clean()
        if data.get("result") == "completion":
            if not data.get("message"):
                self.add_error("message", "Skriv vad den sökande ska komplettera.")
            if not data.get("due_on"):
                self.add_error("due_on", "Ange sista svarsdag.")
        return data


class CompletenessView(CaseTaskView):
    form_class = CompletenessForm
    success_message = "Kompletthetskontrollen är gjord."

    def perform(self, data):
        if data["result"] == "complete":
            assess.completeness_confirm(application=self.application, by=self.request.user)
        else:
            assess.completion_request(
                application=self.application, by=self.request.user, message=data["message"], due_on=data["due_on"]
            )


# --- assessment ------------------------------------------------------------------------


class AssessForm(forms.Form):
    conflict = forms.ChoiceField(
        label="Jäv",
        widget=forms.RadioSelect,
        choices=[("none", "Jag är inte jävig i ärendet"), ("conflict", "Jag är jävig och lämnar ärendet")],
        error_messages={"required": "Välj om du är jävig."},
    )
    conflict_reason = forms.CharField(label="Skäl till jäv", required=False)
    proposal = forms.ChoiceField(label="Förslag", choices=[("", "—")] + Assessment.Proposal.choices, required=False)
    proposed_amount = forms.DecimalField(
        label="Föreslaget belopp (kr)", max_digits=14, decimal_places=2, min_value=0, required=False
    )
    justification = forms.CharField(label="Motivering", widget=forms.Textarea(attrs={"rows": 5}), required=False)

    def clean(self):
        data = super().clean()
        if data.get("conflict") == "conflict":
            if not data.get("conflict_reason"):
                self.add_error("conflict_reason", "Ange kort varför du är jävig.")
        else:
            for name, message in (("proposal", "Välj ett förslag."), ("justification", "Skriv en motivering.")):
                if not data.get(name):
                    self.add_error(name, message)
            if data.get("proposed_amount") is None:
                self.add_error("proposed_amount", "Ange ett belopp (0 kr vid avslag).")
        return data


class AssessView(CaseTaskView):
    form_class = AssessForm
    success_message = "Bedömningen är sparad."

    def get_initial(self):
        # The jäv question has no answer chosen in advance: the officer answers it each time.
        return {"proposed_amount": plain_amount(self.application.requested_amount)}

    def perform(self, data):
        if data["conflict"] == "conflict":
            assess.conflict_declare(application=self.application, by=self.request.user, reason=data["conflict_reason"])
            self.success_message = "Jävet är anmält och ärendet går tillbaka till kön för en annan handläggare."
            return
        assess.assessment_record(
            application=self.application,
            by=self.request.user,
            no_conflict=True,
            proposal=data["proposal"],
            proposed_amount=data["proposed_amount"],
            justification=data["justification"],
        )


# --- decision --------------------------------------------------------------------------


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label="Beslut", choices=Decision.Outcome.choices)
    amount = forms.DecimalField(label="Beviljat belopp (kr)", max_digits=14, decimal_places=2, min_value=0)
    reasons = forms.CharField(label="Motivering", widget=forms.Textarea(attrs={"rows": 5}))
    conditions = forms.CharField(label="Villkor", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    meeting_date = forms.DateField(label="Nämndens sammanträde", widget=DATE_INPUT, required=False)
    protocol_paragraph = forms.CharField(label="Protokollsparagraf", max_length=20, required=False)
    approved_immediately = forms.BooleanField(
        label="Paragrafen justerades omedelbart",
        required=False,
        help_text="Kryssa i bara om nämnden justerade paragrafen på sammanträdet. Annars verkställs beslutet "
        "(attest, utbetalning, öppna data) först när det har anslagits att protokollet är justerat.",
    )

    def __init__(self, *args, by_committee, **kwargs):
        super().__init__(*args, **kwargs)
        if not by_committee:
            del self.fields["meeting_date"]
            del self.fields["protocol_paragraph"]
            del self.fields["approved_immediately"]
        else:
            self.fields["meeting_date"].required = True
            self.fields["protocol_paragraph"].required = True


class DecideView(CaseTaskView):
    form_class = DecideForm
    success_message = "Beslutet är fattat. Beslutsbrevet skickas till den sökande."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["by_committee"] = self.application.assessment.needs_committee
        return kwargs

    def get_initial(self):
        assessment = self.application.assessment
        return {
            "outcome": assessment.proposal,
            "amount": plain_amount(assessment.proposed_amount),
            "reasons": assessment.justification,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["preview_button"] = "Förhandsgranska beslutsbrev"
        return context

    def decision_data(self, data):
        return dict(
            application=self.application,
            by=self.request.user,
            outcome=data["outcome"],
            amount=data["amount"],
            reasons=data["reasons"],
            conditions=data["conditions"],
            meeting_date=data.get("meeting_date"),
            protocol_paragraph=data.get("protocol_paragraph", ""),
            approved_immediately=data.get("approved_immediately", False),
        )

    def form_valid(self, form):
        if "preview" in self.request.POST:
            return self.preview(form)
        return super().form_valid(form)

    def preview(self, form):
        """The letter the decision would produce, as a PDF marked as a draft. Nothing is
        stored and the task stays open; the transaction is rolled back all the same."""
        refusal = self.refusal()
        if refusal:
            form.add_error(None, refusal)
            return self.form_invalid(form)
        try:
            decision = decide.decision_draft(**self.decision_data(form.cleaned_data))
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
            return self.form_invalid(form)
        pdf = letters.decision_letter_preview(decision)
        transaction.set_rollback(True)
        filename = f"Förhandsgranskning beslut {self.application.case_number.replace('/', '-')}.pdf"
        return file_response(pdf, filename=filename, content_type="application/pdf", disposition="inline")

    def perform(self, data):
        decide.decision_make(**self.decision_data(data))


# --- follow-up -------------------------------------------------------------------------


class ReviewReportForm(forms.Form):
    verdict = forms.ChoiceField(
        label="Bedömning",
        widget=forms.RadioSelect,
        choices=[
            ("approve", "Godkänn återrapporten"),
            ("completion", "Begär komplettering"),
            ("reject", "Underkänn (återkrav kan bli aktuellt)"),
        ],
    )
    note = forms.CharField(
        label="Kommentar till den sökande",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Krävs för komplettering och underkännande: den sökande ser den, och vid "
        "underkännande är den motiveringen i beslutet om återkrav.",
    )
    reclaim_amount = forms.DecimalField(
        label="Återkrav (kr), vid underkänd återrapport",
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Lämna tomt för att kräva tillbaka hela det utbetalda beloppet.",
    )

    def __init__(self, *args, paid, **kwargs):
        super().__init__(*args, **kwargs)
        self.paid = paid
        self.fields["reclaim_amount"].help_text = (
            f"Högst det som har betalats ut, {number_format(paid, 2, force_grouping=True)} kr. "
            "Lämna tomt för att kräva tillbaka allt."
        )

    def clean(self):
        data = super().clean()
        verdict, amount = data.get("verdict"), data.get("reclaim_amount")
        if verdict in ("completion", "reject") and not (data.get("note") or "").strip():
            self.add_error("note", "Skriv en motivering till den sökande.")
        if verdict == "reject" and amount is not None and amount > self.paid:
            self.add_error(
                "reclaim_amount",
                f"Återkravet kan vara högst det som har betalats ut, "
                f"{number_format(self.paid, 2, force_grouping=True)} kr.",
            )
        return data


class ReviewReportView(CaseTaskView):
    """The officer reads the whole report (what the programme asked for, budget against outcome,
    attachments) above the verdict: approve, ask for completion, or reject with a repayment claim."""

    form_class = ReviewReportForm
    template_name = "workflows/review_report.html"
    success_message = "Återrapporten är granskad."

    @cached_property
    def report(self):
        return FollowUpReport.objects.select_related("application").get(application=self.application)

    @cached_property
    def paid(self):
        return follow_up.amount_paid(self.application)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "paid": self.paid}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.report
        lines = list(report.cost_lines.all())
        context.update(
            {
                "report": report,
                "participants": follow_up.participant_table(report.participants_by_group)
                if report.participants_by_group
                else None,
                "statement": follow_up.cost_statement(lines) if lines else None,
                "attachments": report.application.documents.filter(kind=Document.Kind.FOLLOW_UP),
                "paid": self.paid,
                "late": report.submitted_at is not None and timezone.localdate(report.submitted_at) > report.due_on,
            }
        )
        return context

    def perform(self, data):
        follow_up.follow_up_review(
            report=self.report,
            by=self.request.user,
            verdict=data["verdict"],
            note=data["note"],
            reclaim_amount=data.get("reclaim_amount") if data["verdict"] == "reject" else None,
        )
