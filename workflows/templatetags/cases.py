from django import template

from grants import access
from grants.selectors import case_overview

register = template.Library()


@register.inclusion_tag("workflows/case_summary.html", takes_context=True)
def case_summary(context, application_id):
    """The case as staff see it beside every task and on the case page (fixed query count)."""
    request = context.get("request")
    return {
        **case_overview(application_id),
        # A committee decision's letter is made with its meeting's letters, on the meeting's page.
        "meeting_letters_link": request is not None and bool(access.is_decision_maker(request.user)),
    }
