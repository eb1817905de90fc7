"""What a committee meeting's announcement means to the cases decided at it."""

from django.contrib.auth.models import User

from ..models import CommitteeMeeting, Decision
from ._base import record_event
from .committee import delegation_report_announced


def meeting_announcement_record(*, meeting: CommitteeMeeting, by: User) -> None:
    """Write into the history of every case the committee decided at the meeting that the approval
    of the protocol was announced, and when the appeal period ends. Runs inside the caller's
    transaction, which holds the meeting's row lock and has saved meeting.announced_on."""
    note = (
        f"Justeringen av protokollet från sammanträdet {meeting.held_on:%Y-%m-%d} anslogs "
        f"{meeting.announced_on:%Y-%m-%d}. Tiden för överklagande går ut {meeting.appeal_deadline:%Y-%m-%d}."
    )
    for decision in Decision.objects.filter(meeting=meeting, by_committee=True).select_related("application"):
        record_event(decision.application, by=by, action="Protokollet tillkännagivet", note=note)
    delegation_report_announced(meeting, by)
