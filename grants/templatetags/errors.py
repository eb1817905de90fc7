"""The error summary for templates that have only the form (grants.web.error_summary)."""

from django import forms, template

from ..web import SummaryRow
from ..web import error_summary as summary_of

register = template.Library()


@register.filter
def error_summary(form: forms.BaseForm) -> list[SummaryRow]:
    """The form's errors as the summary template takes them, for pages whose view passes only
    the form: {% include "portal/_error_summary.html" with summary=form|error_summary %}."""
    return summary_of(form)
