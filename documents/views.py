"""A case's stored document handed out to those who may read it (grants.selectors.document_for_user)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grants import access
from grants.files import read_verified
from grants.selectors import document_for_user
from grants.web import stored_file_response


def readable_document(user, pk):
    """The document if this person may read it: 404 when it is not theirs to know of, 403
    when it is a case's they may not read (the one rule for the page and the REST API)."""
    document = document_for_user(user, pk)
    if document.application_id is not None and access.is_staff_member(user):
        # Staff read the documents of the committees they work for (403 otherwise), unless
        # they read it as the applicant's own member.
        seen = access.may_see_case(user, document.application)
        if not seen and not access.is_applicant(user, document.application):
            access.require(seen)
    # Staff who declared jäv in the case no longer read its documents.
    access.require(access.may_read_case_details(user, document.application))
    return document


def document_file_response(request, document):
    """The document's file; a culled one (gallring) is gone for good: 410, saying so."""
    if document.culled_at is not None:
        message = _(
            "Filen %(name)s är gallrad %(date)s enligt kommunens dokumenthanteringsplan och finns inte längre. "
            "Uppgifterna om handlingen finns kvar i diariet."
        ) % {"name": document.filename, "date": f"{timezone.localdate(document.culled_at):%Y-%m-%d}"}
        return render(request, "error.html", {"message": message}, status=410)
    return stored_file_response(request, lambda: (document.filename, document.content_type, read_verified(document)))


@login_required
def document_download(request, pk):
    return document_file_response(request, readable_document(request.user, pk))
