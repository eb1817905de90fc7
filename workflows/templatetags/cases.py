import re
from decimal import Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format

from grants import access, required_attachments
from grants.selectors import case_overview

register = template.Library()


@register.inclusion_tag("workflows/case_summary.html", takes_context=True)
def case_summary(context, application_id):
    """The case as staff see it beside every task and on the case page (fixed query count).
    Staff who declared jäv in the case see only its case number and status."""
    request = context.get("request")
    overview = case_overview(application_id)
    user = getattr(request, "user", None)
    application = overview["application"]
    return {
        **overview,
        # The completeness checklist: each attachment the programme asks for, with its files.
        "attachment_checklist": required_attachments.rows(application.call.programme, application.documents.all()),
        "request": request,
        "details": user is not None and bool(access.may_read_case_details(user, overview["application"])),
        "list_url": case_list_url(),
        # A committee decision's letter is made with its meeting's letters, on the meeting's page.
        "meeting_letters_link": user is not None and bool(access.is_decision_maker(user)),
        # A closed case's archive package, for the records administrator.
        "archive_link": user is not None
        and overview["application"].closed_at is not None
        and bool(access.may_export_archive(user)),
        # Assessment by several reviewers: only programmes that ask for reviewers read the reviews.
        "review_summary": _review_summary(overview["application"]),
    }


def _review_summary(application):
    from grants.services.reviews import review_summary

    if not application.call.programme.reviewers_required:
        return None
    summary = review_summary(application)
    return summary if summary.criteria else None


def case_list_url():
    """The staff's case list (the "lists" work), or its plain path while it is not routed."""
    try:
        return reverse("workspace:list")
    except NoReverseMatch:
        return "/staff/arenden/"


@register.filter
def kr(value):
    """An amount as Swedes write it: "45 000 kr", with öre only when there are any
    ("1 234,50 kr"); nothing for no amount."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    decimals = 0 if amount == amount.to_integral_value() else 2
    return f"{number_format(amount, decimals, force_grouping=True)}\xa0kr"


_AMOUNT_IN_TEXT = re.compile(r"(?<![\d.,])(\d+)(?:\.(\d{1,2}))?(?=\s?kr\b)")


@register.filter
def amounts_in_text(text):
    """A stored history note's amounts ("45000.00 kr") written as the page writes amounts."""
    if not text:
        return text
    return _AMOUNT_IN_TEXT.sub(lambda m: kr(m.group(0)).removesuffix("\xa0kr"), str(text))


@register.filter
def person(user):
    """A person by name: full name, or the user name if none is recorded."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
