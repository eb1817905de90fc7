"""The OpenID Connect sign-ins' pages, under /konto/ (config/urls.py)."""

from django.urls import path

from . import views

app_name = "identity"
urlpatterns = [
    path("e-legitimation/", views.eid_start, name="eid_start"),
    path("e-legitimation/tillbaka/", views.eid_callback, name="eid_callback"),
    path("e-legitimation/koppla/", views.eid_link, name="eid_link"),
    path("e-legitimation/ta-bort/", views.eid_unlink, name="eid_unlink"),
    path("personal/", views.staff_start, name="staff_start"),
    path("personal/tillbaka/", views.staff_callback, name="staff_callback"),
]
