"""The committee's pages (/staff/namnd/…): the secretary plans a meeting, builds its agenda
from the cases ready for the committee and the delegation report, sends it, and records the
meeting (attendance, jäv, every item's decision) on one page. The officer writes the
officer's report of a case ready for the committee (/staff/namnd/arende/<pk>/).

The announcement of the approved protocol, the decision letters and the protocol extracts
follow on the meeting's letter page (documents.meetings)."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from grants import access
from grants.files import STORAGE_ERRORS, read_stored
from grants.models import AgendaItem, Application, Committee, CommitteeMeeting, Decision, MeetingDocument
from grants.services import committee
from grants.web import file_response, refusal_to_form, refusal_to_messages

from . import committee_papers, tasks

secretaries_only = access.required(access.is_secretary, "Föredragningslistor och protokoll förs av nämndsekreteraren.")
meeting_people = access.required(access.works_with_meetings)
officers_only = access.required(access.is_officer, "Tjänsteskrivelsen skrivs av handläggaren.")

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _meeting(request, pk):
    meeting = get_object_or_404(CommitteeMeeting.objects.select_related("committee", "secretary"), pk=pk)
    access.require(access.may_see_committee(request.user, meeting.committee_id))
    return meeting


# --- the meetings -------------------------------------------------------------------------------


class MeetingForm(forms.Form):
    committee = forms.ModelChoiceField(label="Nämnd", queryset=Committee.objects.none(), empty_label=None)
    held_on = forms.DateField(label="Sammanträdesdatum", widget=DATE)
    place = forms.CharField(label="Plats", max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = Committee.objects.filter(access.in_committees(user, "pk"))  # type: ignore[attr-defined]


@meeting_people
def meeting_list(request):
    form = MeetingForm(user=request.user)
    status = 200
    if request.method == "POST":
        access.require(access.is_secretary(request.user))
        form = MeetingForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                meeting = committee.meeting_plan(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                refusal_to_form(form, exc)
            else:
                return redirect("committee:agenda", pk=meeting.pk)
        status = 400
    meetings = committee.meetings_for(request.user).annotate(item_count=Count("items"))[:50]
    return render(
        request,
        "committee/list.html",
        {"meetings": meetings, "form": form, "secretary": bool(access.is_secretary(request.user))},
        status=status,
    )


# --- the agenda ---------------------------------------------------------------------------------


@require_GET
@meeting_people
def agenda(request, pk):
    meeting = _meeting(request, pk)
    items = list(
        meeting.items.select_related("application__organisation", "application__officer_report").annotate(
            reported=Count("reported_decisions")
        )
    )
    editable = meeting.agenda_sent_at is None and bool(access.is_secretary(request.user))
    return render(
        request,
        "committee/agenda.html",
        {
            "meeting": meeting,
            "items": items,
            "editable": editable,
            "ready": list(committee.cases_ready(meeting)) if editable else [],
            "unreported": committee.delegation_decisions_unreported(meeting.committee).count() if editable else 0,
            "has_delegation_report": any(item.kind == AgendaItem.Kind.DELEGATION_REPORT for item in items),
            "documents": list(meeting.documents.order_by("-created_at")),
            "secretary": bool(access.is_secretary(request.user)),
        },
    )


def _agenda_step(request, pk, step):
    meeting = _meeting(request, pk)
    try:
        step(meeting)
    except ValidationError as exc:
        refusal_to_messages(request, exc)
    return redirect("committee:agenda", pk=meeting.pk)


@require_POST
@secretaries_only
def agenda_add(request, pk):
    def add(meeting):
        application = get_object_or_404(Application, pk=request.POST.get("application"))
        committee.agenda_case_add(meeting=meeting, application=application, by=request.user)

    return _agenda_step(request, pk, add)


@require_POST
@secretaries_only
def agenda_delegation_report(request, pk):
    return _agenda_step(
        request, pk, lambda meeting: committee.agenda_delegation_report_add(meeting=meeting, by=request.user)
    )


@require_POST
@secretaries_only
def agenda_item(request, pk, item_pk):
    def change(meeting):
        item = get_object_or_404(AgendaItem, pk=item_pk, meeting=meeting)
        action = request.POST.get("action")
        if action == "remove":
            committee.agenda_item_remove(item=item, by=request.user)
        elif action in ("up", "down"):
            committee.agenda_item_move(item=item, by=request.user, step=-1 if action == "up" else 1)

    return _agenda_step(request, pk, change)


@require_POST
@secretaries_only
def agenda_send(request, pk):
    meeting = _meeting(request, pk)
    try:
        with transaction.atomic():
            meeting = committee.agenda_send(meeting=meeting, by=request.user)
            tasks.produce_agenda_papers.enqueue(meeting_pk=meeting.pk)  # queued with the sending
    except ValidationError as exc:
        refusal_to_messages(request, exc)
    else:
        messages.success(
            request,
            "Föredragningslistan är skickad. Den och tjänsteskrivelserna skapas som PDF i bakgrunden och "
            "mejlas till ledamöterna.",
        )
    return redirect("committee:agenda", pk=meeting.pk)


@require_GET
@meeting_people
def meeting_document(request, pk, document_pk):
    meeting = _meeting(request, pk)
    document = get_object_or_404(MeetingDocument, pk=document_pk, meeting=meeting)
    try:
        content = read_stored(document.storage_key, document.sha256)
    except (OSError, *STORAGE_ERRORS):
        return HttpResponse("Filen kan inte läsas just nu. Försök igen om en stund.", status=503)
    return file_response(content, filename=document.filename, content_type=document.content_type)


@require_GET
@meeting_people
def delegation_report_xlsx(request, pk):
    meeting = _meeting(request, pk)
    return file_response(
        committee_papers.delegation_report_xlsx(meeting),
        filename=f"Delegationsrapport {meeting.held_on:%Y-%m-%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_GET
@meeting_people
def delegation_report_pdf(request, pk):
    """The delegation report as it stands (before the agenda is sent, the decisions not yet reported)."""
    meeting = _meeting(request, pk)
    return file_response(
        committee_papers.letters.render_pdf(committee_papers.delegation_report_html(meeting)),
        filename=f"Delegationsrapport {meeting.held_on:%Y-%m-%d}.pdf",
        content_type="application/pdf",
        disposition="inline",
    )


# --- the meeting's protocol -------------------------------------------------------------------------


class ProtocolForm(forms.Form):
    """Attendance, and for every case item: jäv, the decision, amount, reasons."""

    def __init__(self, *args, meeting, items, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.meeting = meeting
        self.items = items
        self.members = members
        choices = [(member.pk, str(member)) for member in members]
        self.fields["present"] = forms.MultipleChoiceField(
            label="Närvarande", choices=choices, widget=forms.CheckboxSelectMultiple, required=False
        )
        for item in items:
            if item.application is None:
                continue
            report = getattr(item.application, "officer_report", None)
            assessment = item.application.assessment
            prefix = f"item-{item.pk}-"
            self.fields[prefix + "conflicted"] = forms.MultipleChoiceField(
                label="Anmälde jäv och deltog inte",
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
            self.fields[prefix + "outcome"] = forms.ChoiceField(
                label="Beslut", choices=Decision.Outcome.choices, initial=assessment.proposal
            )
            self.fields[prefix + "amount"] = forms.DecimalField(
                label="Beviljat belopp (kr)",
                min_value=Decimal(0),
                max_digits=14,
                decimal_places=2,
                initial=Decimal(0) if assessment.proposal == assessment.Proposal.REJECT else assessment.proposed_amount,
                localize=True,
            )
            self.fields[prefix + "reasons"] = forms.CharField(
                label="Motivering",
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=report.reasons if report else assessment.justification,
            )
            self.fields[prefix + "approved_immediately"] = forms.BooleanField(
                label="Paragrafen justerades omedelbart", required=False
            )

    def rows(self):
        """The form's fields per item, in the agenda's order, for the template."""
        for item in self.items:
            if item.application is None:
                yield item, None
                continue
            prefix = f"item-{item.pk}-"
            yield (
                item,
                {
                    name: self[prefix + name]
                    for name in ("conflicted", "outcome", "amount", "reasons", "approved_immediately")
                },
            )

    def decisions(self):
        members = {str(member.pk): member for member in self.members}
        present = [members[pk] for pk in self.cleaned_data["present"]]
        decisions = []
        for item in self.items:
            if item.application is None:
                continue
            prefix = f"item-{item.pk}-"
            decisions.append(
                committee.ItemDecision(
                    item=item,
                    outcome=self.cleaned_data[prefix + "outcome"],
                    amount=self.cleaned_data[prefix + "amount"],
                    reasons=self.cleaned_data[prefix + "reasons"],
                    approved_immediately=self.cleaned_data[prefix + "approved_immediately"],
                    conflicted=[members[pk] for pk in self.cleaned_data[prefix + "conflicted"]],
                )
            )
        return present, decisions


def _protocol_items(meeting):
    return list(
        meeting.items.select_related(
            "application__organisation",
            "application__assessment",
            "application__officer_report",
            "application__decision",
            "application__call",
        ).prefetch_related(
            "conflicted", Prefetch("reported_decisions", queryset=Decision.objects.only("pk", "reported_item"))
        )
    )


@meeting_people
def protocol(request, pk):
    meeting = _meeting(request, pk)
    items = _protocol_items(meeting)
    members = list(meeting.committee.members.filter(active=True))
    form = ProtocolForm(meeting=meeting, items=items, members=members)
    status = 200
    if request.method == "POST":
        if not access.is_secretary(request.user):
            raise PermissionDenied("Protokollet förs av nämndsekreteraren.")
        form = ProtocolForm(request.POST, meeting=meeting, items=items, members=members)
        if form.is_valid():
            present, decisions = form.decisions()
            try:
                committee.meeting_record(meeting=meeting, by=request.user, present=present, decisions=decisions)
            except ValidationError as exc:
                refusal_to_form(form, exc)
            else:
                messages.success(
                    request,
                    "Sammanträdet är protokollfört. När protokollet är justerat: ange dagen då det anslogs, "
                    "så skapas protokollsutdrag och beslutsbrev.",
                )
                return redirect("committee:protocol", pk=meeting.pk)
        status = 400
    return render(
        request,
        "committee/protocol.html",
        {
            "meeting": meeting,
            "form": form,
            "items": items,
            "present": list(meeting.present.all()) if meeting.is_held else [],
            "secretary": bool(access.is_secretary(request.user)),
            "seats": committee.seats(meeting.committee),
        },
        status=status,
    )


# --- the officer's report -----------------------------------------------------------------------------


class OfficerReportForm(forms.Form):
    background = forms.CharField(label="Bakgrund", widget=forms.Textarea(attrs={"rows": 6}))
    proposal = forms.CharField(label="Förslag till beslut", widget=forms.Textarea(attrs={"rows": 3}))
    reasons = forms.CharField(label="Skäl för förslaget", widget=forms.Textarea(attrs={"rows": 5}))
    budget_effect = forms.CharField(label="Ekonomiska konsekvenser", widget=forms.Textarea(attrs={"rows": 3}))


def _case(request, pk):
    application = get_object_or_404(
        Application.objects.select_related(
            "call__programme__committee", "organisation", "assessment", "officer_report__author"
        ),
        pk=pk,
    )
    access.require(access.may_take_part(request.user, application))
    return application


@officers_only
def officer_report(request, pk):
    application = _case(request, pk)
    report = getattr(application, "officer_report", None)
    status = 200
    form = None
    if report is not None:
        form = OfficerReportForm(
            initial={name: getattr(report, name) for name in ("background", "proposal", "reasons", "budget_effect")}
        )
    if request.method == "POST":
        if report is None:
            try:
                committee.committee_ready_mark(application=application, by=request.user)
            except ValidationError as exc:
                refusal_to_messages(request, exc)
            else:
                messages.success(
                    request, "Ärendet är klart för nämnden. Tjänsteskrivelsen är skriven från bedömningen."
                )
            return redirect("committee:officer_report", pk=application.pk)
        form = OfficerReportForm(request.POST)
        if form.is_valid():
            try:
                committee.officer_report_update(report=report, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                refusal_to_form(form, exc)
            else:
                messages.success(request, "Tjänsteskrivelsen är sparad.")
                return redirect("committee:officer_report", pk=application.pk)
        status = 400
    agenda_item = (
        AgendaItem.objects.filter(application=application)
        .select_related("meeting")
        .order_by("-meeting__held_on")
        .first()
    )
    return render(
        request,
        "committee/officer_report.html",
        {
            "application": application,
            "report": report,
            "form": form,
            "agenda_item": agenda_item,
            "locked": agenda_item is not None and agenda_item.meeting.agenda_sent_at is not None,
            "may_mark": application.status == Application.Status.ASSESSED
            and hasattr(application, "assessment")
            and application.assessment.needs_committee,
        },
        status=status,
    )


@require_GET
@officers_only
def officer_report_pdf(request, pk):
    application = _case(request, pk)
    if not hasattr(application, "officer_report"):
        return redirect("committee:officer_report", pk=application.pk)
    return file_response(
        committee_papers.officer_report_preview(application),
        filename=f"Tjänsteskrivelse {application.case_number.replace('/', '-')}.pdf",
        content_type="application/pdf",
        disposition="inline",
    )


app_name = "committee"
urlpatterns = [
    path("", meeting_list, name="list"),
    path("<int:pk>/", agenda, name="agenda"),
    path("<int:pk>/arende/", agenda_add, name="agenda_add"),
    path("<int:pk>/delegationsrapport/", agenda_delegation_report, name="agenda_delegation_report"),
    path("<int:pk>/delegationsrapport.pdf", delegation_report_pdf, name="delegation_pdf"),
    path("<int:pk>/delegationsrapport.xlsx", delegation_report_xlsx, name="delegation_xlsx"),
    path("<int:pk>/punkt/<int:item_pk>/", agenda_item, name="agenda_item"),
    path("<int:pk>/skicka/", agenda_send, name="agenda_send"),
    path("<int:pk>/dokument/<int:document_pk>/", meeting_document, name="document"),
    path("<int:pk>/protokoll/", protocol, name="protocol"),
    path("arende/<int:pk>/", officer_report, name="officer_report"),
    path("arende/<int:pk>/tjansteskrivelse.pdf", officer_report_pdf, name="officer_report_pdf"),
]
