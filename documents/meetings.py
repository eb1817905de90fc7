"""The decision maker's pages for a committee meeting's letters (/staff/sammantraden/…):
the meetings with their decisions and letters, the day the protocol's approval was
announced, the button that makes the letters in the background, and their progress."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from grants import access
from grants.models import CommitteeMeeting, Decision, Document
from grants.web import refusal_to_form, refusal_to_messages

from . import batches

decision_makers_only = access.required(
    access.works_with_meetings, "Sammanträdenas beslutsbrev hanteras av nämndens sekreterare och beslutsfattare."
)


def _meeting(request, pk):
    """The meeting a decision maker's page is about (decision_makers_only has checked who):
    one of the committees he works for (403 otherwise)."""
    meeting = get_object_or_404(CommitteeMeeting.objects.select_related("committee"), pk=pk)
    access.require(access.may_see_committee(request.user, meeting.committee_id))
    return meeting


class AnnounceForm(forms.Form):
    announced_on = forms.DateField(
        label="Protokollets justering tillkännagavs på anslagstavlan",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Tiden för överklagande, tre veckor, räknas från den dagen. Breven anger båda datumen.",
    )


@require_GET
@decision_makers_only
def meeting_list(request):
    letters = Document.objects.filter(application=OuterRef("application"), kind=Document.Kind.DECISION_LETTER)
    counts = (
        Decision.objects.filter(meeting=OuterRef("pk"), by_committee=True)
        .annotate(has_letter=Exists(letters))
        .order_by()
        .values("meeting")
    )
    meetings = (
        CommitteeMeeting.objects.select_related("committee")
        .filter(access.in_committees(request.user))
        .annotate(decisions_count=Count("decisions", filter=Q(decisions__by_committee=True)))
        .filter(decisions_count__gt=0)
        .annotate(letters_done=_subquery_count(counts.filter(has_letter=True)))
        .order_by("-held_on", "committee__name")
    )
    return render(request, "meetings/list.html", {"meetings": meetings})


def _subquery_count(queryset):
    return Coalesce(Subquery(queryset.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), 0)


@decision_makers_only
def meeting_detail(request, pk):
    meeting = _meeting(request, pk)
    form = AnnounceForm(initial={"announced_on": meeting.announced_on})
    return _detail(request, meeting, form)


def _detail(request, meeting, form, status=200):
    progress = batches.meeting_letters_progress(meeting)
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "form": form,
            "progress": progress,
            "decisions": batches.meeting_decisions(meeting),
            "batches": meeting.letter_batches.select_related("started_by")[:10],
            "locked": meeting.announced_on is not None and (meeting.letter_batches.exists() or progress["done"]),
            "progress_url": reverse("meetings:progress", args=[meeting.pk]),
        },
        status=status,
    )


@require_POST
@decision_makers_only
def meeting_announce(request, pk):
    meeting = _meeting(request, pk)
    form = AnnounceForm(request.POST)
    if form.is_valid():
        try:
            meeting = batches.meeting_announce(
                meeting=meeting, by=request.user, announced_on=form.cleaned_data["announced_on"]
            )
        except ValidationError as exc:
            refusal_to_form(form, exc, at="announced_on")
        else:
            messages.success(
                request,
                f"Tillkännagivandet den {meeting.announced_on:%Y-%m-%d} är sparat. "
                f"Tiden för överklagande går ut {meeting.appeal_deadline:%Y-%m-%d}.",
            )
            return redirect("meetings:detail", pk=meeting.pk)
    return _detail(request, meeting, form, status=400)


@require_POST
@decision_makers_only
def meeting_letters_start(request, pk):
    meeting = _meeting(request, pk)
    try:
        batch = batches.meeting_letters_start(meeting=meeting, by=request.user)
    except ValidationError as exc:
        refusal_to_messages(request, exc)
    else:
        if batch.letters_queued:
            messages.success(
                request,
                f"{batch.letters_queued} beslutsbrev skapas nu. Du kan lämna sidan; arbetet fortsätter i bakgrunden.",
            )
        else:
            messages.success(request, "Alla beslutsbrev för sammanträdet är redan skapade eller på väg.")
    return redirect("meetings:detail", pk=meeting.pk)


@require_GET
@decision_makers_only
def meeting_letters_progress(request, pk):
    meeting = _meeting(request, pk)
    progress = batches.meeting_letters_progress(meeting)
    letters = {
        str(decision.pk): {"url": reverse("document", args=[decision.letter_pk]), "filename": decision.letter_filename}
        for decision in batches.meeting_decisions(meeting).filter(letter_pk__isnull=False)
    }
    response = JsonResponse({**progress, "letters": letters})
    response["Cache-Control"] = "no-store"
    return response
