"""The form fields of what every applicant types: kronor as people write them, and free
texts and counts whose limits (grants.limits) the applicant sees and the server keeps. The
portal's forms and the programme's own questions (grants.questions) use them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Kronor as people write them: thousands grouped by a space (also a no-break or thin one) or
# not at all, öre after a comma or a point, "kr" after it or not. Nothing else is guessed at:
# "1.000,50" or "1,000.50" could mean a thousand or one krona.
KRONOR = re.compile(
    r"(?P<whole>\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+|\d+)(?:[,.](?P<ore>\d{1,2}))?"
    r"(?:\s*kr\.?)?",
    re.IGNORECASE,
)


class KronorField(forms.DecimalField):
    """An amount in kronor, as the applicant writes it: "12 500", "12 500,50 kr", "12500.50".
    Shown as it is written in Swedish, without öre when there are none."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    default_error_messages = {"invalid": gettext_lazy("Skriv beloppet i kronor, t.ex. 12 500 eller 12 500,50.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)

    # django-stubs derives DecimalField from IntegerField, whose to_python returns an int.
    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str) and value.strip():
            match = KRONOR.fullmatch(value.strip())
            if match is None:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            whole = re.sub(r"\D", "", match["whole"])
            value = f"{whole}.{match['ore']}" if match["ore"] else whole
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
            return f"{value:,}".replace(",", " ").replace(".", ",")
        return value


def _with_limit(help_text: StrOrPromise, limit: int, what: StrOrPromise) -> str:
    """The field's help and its limit in the reader's language, e.g. "Högst 4 000 tecken."."""
    hint = what % {"count": number_format(limit, 0, force_grouping=True)}
    return f"{help_text} {hint}" if help_text else hint


_with_limit_lazy = lazy(_with_limit, str)
TOO_LONG = gettext_lazy("Högst %(limit_value)d tecken; texten har %(show_value)d. Korta den.")


def text_field(
    label: StrOrPromise, *, max_length: int, help_text: StrOrPromise = "", rows: int | None = None, **kwargs: Any
) -> forms.CharField:
    """A free-text field whose limit the applicant sees (the hint, and maxlength in the
    browser) and the server keeps (a longer text is refused, with the limit named)."""
    if rows:
        kwargs["widget"] = forms.Textarea(attrs={"rows": rows})
    return forms.CharField(
        label=label,
        max_length=max_length,
        help_text=_with_limit_lazy(help_text, max_length, gettext_lazy("Högst %(count)s tecken.")),
        error_messages={"max_length": TOO_LONG, **kwargs.pop("error_messages", {})},
        **kwargs,
    )


def count_field(
    label: StrOrPromise, *, maximum: int, help_text: StrOrPromise = "", **kwargs: Any
) -> forms.IntegerField:
    """A count from 0 up to a plausible maximum (grants.limits), which the applicant sees."""
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=maximum,
        help_text=_with_limit_lazy(help_text, maximum, gettext_lazy("Högst %(count)s.")),
        **kwargs,
    )
