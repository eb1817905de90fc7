"""The records administrator's download of a closed case's archive package (/staff/arkiv/<pk>/)."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from grants import access
from grants.models import Application
from grants.web import file_response

from .archive import archive_export

records_administrators_only = access.required(access.may_export_archive)


@require_GET
@records_administrators_only
def archive_download(request, pk):
    application = get_object_or_404(Application.objects.select_related("call__programme"), pk=pk)
    access.require(access.may_see_case(request.user, application))
    try:
        filename, content = archive_export(application, by=request.user)
    except ValidationError as refusal:
        return HttpResponse(" ".join(refusal.messages), status=409, content_type="text/plain; charset=utf-8")
    return file_response(content, filename=filename, content_type="application/zip")
