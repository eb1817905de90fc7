from django import template

from grants.selectors import case_overview

register = template.Library()


@register.inclusion_tag("workflows/case_summary.html")
def case_summary(application_id):
    """The case as staff see it beside every task and on the case page (fixed query count)."""
    return case_overview(application_id)
