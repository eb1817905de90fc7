"""What every view does the same way, whichever package it is in: show a refusal from the
services on the page, sum up a page's errors, and hand out a file.

Not the domain: these helpers know requests, forms and responses. They live in grants so
that grants' own portal, workflows and documents may all use them without an arrow
running back (grants imports neither of the others)."""

from collections.abc import Callable, Collection
from urllib.parse import quote

from anyascii import anyascii
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .access import NO_PERMISSION

# The file store does not answer when a stored file is to be handed out.
STORE_DOWN_TO_READ = gettext_lazy(
    "Filen kan inte hämtas just nu eftersom fillagringen inte svarar. Försök igen om en stund."
)

Refusal = ValidationError | PermissionDenied
SummaryRow = tuple[str | None, str, str]


# --- refusals ------------------------------------------------------------------------------


def refusal_messages(exc: Refusal, *, about: str | None = None) -> list[str]:
    """What a refusal says, as messages for a page that lists them. A PermissionDenied that
    gives no reason says the person may not do this, so the page is never silent. about: a
    key of a refusal by field whose messages alone are wanted when the refusal has that key
    (a formset shows only what is said about it)."""
    if isinstance(exc, PermissionDenied):
        return [str(exc) or str(NO_PERMISSION)]
    if about is not None and hasattr(exc, "error_dict") and about in exc.error_dict:
        return exc.message_dict[about]
    return list(exc.messages)


def refusal_to_form(
    form: forms.BaseForm, exc: Refusal, *, at: str | None = None, set_aside: Collection[str] = ()
) -> dict[str, list[str]]:
    """Put a refusal on the form that was sent: each message by field at that field when the
    form has it, the rest where messages about no field go (at: a field, or None for the top
    of the form), so that the person sees it next to what to put right. set_aside: keys the
    page shows in a place of its own (a section); their messages are returned, not put on the form."""
    if isinstance(exc, PermissionDenied) or not hasattr(exc, "error_dict"):
        for message in refusal_messages(exc):
            form.add_error(at, message)
        return {}
    aside: dict[str, list[str]] = {}
    for key, errors in exc.message_dict.items():
        if key in form.fields:
            form.add_error(key, errors)
        elif key in set_aside:
            aside.setdefault(key, []).extend(errors)
        else:
            for message in errors:
                form.add_error(at, message)
    return aside


def refusal_to_messages(request: HttpRequest, exc: Refusal) -> None:
    """A refusal where there is no form to show it on: as messages on the next page."""
    for message in refusal_messages(exc):
        messages.error(request, message)


# --- the error summary at the top of a page ---------------------------------------------------


def error_summary(
    form: forms.BaseForm | None = None, formset: forms.BaseFormSet | None = None, formset_what: str = ""
) -> list[SummaryRow]:
    """Every error of the form (and formset) that was sent, for the summary at the top of the
    page (templates/portal/_error_summary.html): [(the id to link to or None, what, message)].
    A formset's own errors link to its first row, each row's error to its field."""
    rows: list[SummaryRow] = []
    if form is not None:
        rows += [(None, "", str(message)) for message in form.non_field_errors()]
        for field in form:
            # Radio buttons have no one input to point to: their fieldset has the field's id.
            rows += [(field.id_for_label or field.auto_id, str(field.label), str(error)) for error in field.errors]
    if formset is not None:
        first_input = next(iter(formset.forms[0]), None) if formset.forms else None
        anchor: str | None = first_input.id_for_label if first_input is not None else None
        rows += [(anchor, formset_what, str(message)) for message in formset.non_form_errors()]
        for number, row in enumerate(formset.forms, start=1):
            for field in row:
                what = _("%(what)s, rad %(number)s: %(label)s") % {
                    "what": formset_what,
                    "number": number,
                    "label": field.label,
                }
                rows += [(field.id_for_label, what, str(error)) for error in field.errors]
    return rows


# --- files -----------------------------------------------------------------------------------


def file_response(
    content: bytes | str, *, filename: str, content_type: str, disposition: str = "attachment", cache: str = "no-store"
) -> HttpResponse:
    """A file to hand out. Its name is sent as RFC 6266 asks: percent-encoded UTF-8 in
    filename* (RFC 5987), with an ASCII filename for clients that read only that one. Files
    hold personal data and case details, so no cache keeps them unless the caller says so
    (cache), and the browser must not guess another type than the one sent (nosniff)."""
    if disposition not in ("attachment", "inline"):
        raise ValueError(f"Unknown Content-Disposition type: {disposition}")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f"{disposition}; filename=\"{_ascii_filename(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["Content-Length"] = str(len(response.content))
    response["Cache-Control"] = cache
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _ascii_filename(filename: str) -> str:
    """The file name in ASCII for a quoted-string: "Beslut Fisksätra.pdf" → "Beslut
    Fisksatra.pdf"; quotes, backslashes and control characters (a header's end) become "_"."""
    return "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in anyascii(filename)) or "fil"


def stored_file_response(
    request: HttpRequest, read: Callable[[], tuple[str, str, bytes]], *, disposition: str = "attachment"
) -> HttpResponse:
    """A stored file as a download: read() gives (file name, media type, bytes), checked
    against the recorded SHA-256. A changed file is not handed out (409, with the reason),
    and a store that does not answer gets a clear 503, not a server error."""
    try:
        filename, content_type, content = read()
    except ValidationError as exc:
        return render(request, "error.html", {"message": exc.messages[0]}, status=409)
    except OSError:
        return render(request, "error.html", {"message": STORE_DOWN_TO_READ}, status=503)
    return file_response(content, filename=filename, content_type=content_type, disposition=disposition)
