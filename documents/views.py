from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from grants.files import read_verified
from grants.selectors import document_for_user


@login_required
def document_download(request, pk):
    document = document_for_user(request.user, pk)
    try:
        content = read_verified(document)
    except ValidationError as exc:
        return render(request, "error.html", {"message": exc.messages[0]}, status=409)
    except OSError:
        return render(request, "error.html", {
            "message": "Filen kan inte hämtas just nu eftersom fillagringen inte svarar. Försök igen om en stund."
        }, status=503)
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(document.filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name):
    from urllib.parse import quote

    return quote(name)
