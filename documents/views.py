"""A case's stored document handed out to those who may read it (grants.selectors.document_for_user)."""

from django.contrib.auth.decorators import login_required

from grants import access
from grants.files import read_verified
from grants.selectors import document_for_user
from grants.web import stored_file_response


@login_required
def document_download(request, pk):
    document = document_for_user(request.user, pk)
    # Staff who declared jäv in the case no longer read its documents.
    access.require(access.may_read_case_details(request.user, document.application))
    return stored_file_response(request, lambda: (document.filename, document.content_type, read_verified(document)))
