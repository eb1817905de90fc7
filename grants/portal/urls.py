from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("utlysningar/<int:call_pk>/ansok/", views.application_create, name="apply"),
    path("ansokningar/<int:pk>/", views.application_detail, name="application"),
    path("ansokningar/<int:pk>/andra/", views.application_edit, name="edit"),
    path("ansokningar/<int:pk>/skicka-in/", views.application_submit, name="submit"),
    path("ansokningar/<int:pk>/ata-tillbaka/", views.application_withdraw, name="withdraw"),
    path("ansokningar/<int:pk>/komplettering/", views.completion_answer, name="completion"),
    path("ansokningar/<int:pk>/aterrapport/", views.follow_up_report, name="follow_up"),
]
