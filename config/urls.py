from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from viewflow.urls import Application, Site

from documents import meetings
from documents.views import document_download
from grants.models import is_decision_maker
from grants.portal.views import home
from workflows.flows import GrantFlow
from workflows.lists import GrantFlowViewset


class MeetingLetters(Application):
    """The staff menu's way to a committee meeting's letters (pages below; decision makers only)."""

    title = "Sammanträden och beslutsbrev"
    icon = "event"
    turbo_disabled = True
    permission = staticmethod(is_decision_maker)
    index_path = path("", RedirectView.as_view(pattern_name="meetings:list"), name="index")


# The staff interface: viewflow's frontend with the one grant flow.
staff_site = Site(title="Bidragshandläggning", viewsets=[
    Application(title="Bidragsärenden", icon="volunteer_activism", app_name="cases", viewsets=[
        GrantFlowViewset(GrantFlow, icon="assignment"),
    ]),
    MeetingLetters(app_name="beslutsbrev"),
])

# The decision maker's pages for a committee meeting's letters (before staff/, which is viewflow's).
meeting_urls = ([
    path("", meetings.meeting_list, name="list"),
    path("<int:pk>/", meetings.meeting_detail, name="detail"),
    path("<int:pk>/tillkannagivande/", meetings.meeting_announce, name="announce"),
    path("<int:pk>/beslutsbrev/", meetings.meeting_letters_start, name="start"),
    path("<int:pk>/beslutsbrev/framsteg/", meetings.meeting_letters_progress, name="progress"),
], "meetings")

admin.site.site_header = "Bidrag – systemförvaltning"
admin.site.site_title = "Bidrag"

urlpatterns = [
    path("", home, name="home"),
    path("konto/logga-in/", auth_views.LoginView.as_view(), name="login"),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("portal/", include("grants.portal.urls")),
    path("dokument/<int:pk>/", document_download, name="document"),
    path("admin/", admin.site.urls),
    path("staff/sammantraden/", include(meeting_urls)),
    path("staff/", staff_site.urls),
]
