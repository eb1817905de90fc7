from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from viewflow.urls import Application, Site

from documents.views import document_download
from grants.portal.views import home
from workflows.flows import GrantFlow
from workflows.lists import GrantFlowViewset

# The staff interface: viewflow's frontend with the one grant flow.
staff_site = Site(title="Bidragshandläggning", viewsets=[
    Application(title="Bidragsärenden", icon="volunteer_activism", app_name="cases", viewsets=[
        GrantFlowViewset(GrantFlow, icon="assignment"),
    ]),
])

admin.site.site_header = "Bidrag – systemförvaltning"
admin.site.site_title = "Bidrag"

urlpatterns = [
    path("", home, name="home"),
    path("konto/logga-in/", auth_views.LoginView.as_view(), name="login"),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("portal/", include("grants.portal.urls")),
    path("dokument/<int:pk>/", document_download, name="document"),
    path("admin/", admin.site.urls),
    path("staff/", staff_site.urls),
]
