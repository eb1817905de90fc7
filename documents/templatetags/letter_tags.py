"""Template filters for the letters."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def css_string(value):
    """A quoted CSS string for `content:` in the letter's page margins. Quotes, backslashes,
    control characters and <, > and & are written as CSS escapes, so no text (a committee's
    name, say) can end the string, the rule or the <style> element."""
    escaped = "".join(
        f"\\{ord(char):x} " if char in "\\\"'<>&" or ord(char) < 32 or ord(char) == 127 else char for char in str(value)
    )
    return mark_safe(f'"{escaped}"')
