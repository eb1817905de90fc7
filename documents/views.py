"""A case's stored document handed out to those who may read it (grants.selectors.document_for_user)."""

from django.contrib.auth.decorators import login_required

from grants import access
from grants.files import read_verified
from grants.selectors import document_for_user
from grants.web import stored_file_response


@login_required
def document_download(request, pk):
    document = document_for_user(request.user, pk)
    if document.application_id is not None and access.is_staff_member(request.user):
        # Staff read the documents of the committees they work for (403 otherwise), unless
        # they read it as the applicant's own member.
        seen = access.may_see_case(request.user, document.application)
        if not seen and not access.is_applicant(request.user, document.application):
            access.require(seen)
    # Staff who declared jäv in the case no longer read its documents.
    access.require(access.may_read_case_details(request.user, document.application))
    return stored_file_response(request, lambda: (document.filename, document.content_type, read_verified(document)))
