"""The product's addresses and one more for the rush bench: a bare page doing one query."""

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as product


def bare(request):
    return HttpResponse(f"{get_user_model().objects.count()}", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *product]
