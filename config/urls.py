from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import include, path
from django.views.generic import RedirectView
from viewflow.urls import Application, Site

from config.ratelimit import limit_login_failures
from documents import committee, meetings
from documents import personal_data as personal_data_pages
from documents.archive_views import archive_download
from documents.register_extract import register_extract_pdf
from documents.views import document_download
from grants import access
from grants.identity import views as identity_views
from grants.portal import catalogue
from grants.portal.settings_views import language_choose
from grants.portal.views import home as portal_home
from grants.records import diarium
from workflows import associations, finance, reports, reviews
from workflows import messages as case_messages
from workflows.flows import GrantFlow
from workflows.lists import GrantFlowViewset


class CaseList(Application):
    """The staff menu's way to the officer's work list and case search (below)."""

    title = "Ärenden"
    icon = "list_alt"
    turbo_disabled = True
    permission = staticmethod(access.is_case_handler)
    index_path = path("", RedirectView.as_view(pattern_name="workspace:list"), name="index")


class MeetingLetters(Application):
    """The staff menu's way to a committee meeting's letters (pages below; decision makers only)."""

    title = "Sammanträden och beslutsbrev"
    icon = "event"
    turbo_disabled = True
    permission = staticmethod(access.works_with_meetings)
    index_path = path("", RedirectView.as_view(pattern_name="meetings:list"), name="index")


class CommitteeMeetings(Application):
    """The staff menu's way to the committee's meetings: agenda and protocol (secretary, decision makers)."""

    title = "Nämndens sammanträden"
    icon = "groups"
    turbo_disabled = True
    permission = staticmethod(access.works_with_meetings)
    index_path = path("", RedirectView.as_view(pattern_name="committee:list"), name="index")


class Payments(Application):
    """The staff menu's way to finance's pages (below; attesters only)."""

    title = "Utbetalningar"
    icon = "payments"
    turbo_disabled = True
    permission = staticmethod(access.is_finance)
    index_path = path("", RedirectView.as_view(pattern_name="finance:payments"), name="index")


class Associations(Application):
    """The staff menu's way to the associations to verify and the claims on registered ones
    (below; officers and administrators)."""

    title = "Föreningar att verifiera"
    icon = "verified_user"
    turbo_disabled = True
    permission = staticmethod(access.may_verify_associations)
    index_path = path("", RedirectView.as_view(pattern_name="associations:list"), name="index")


class AnnualReport(Application):
    """The staff menu's way to the annual grant report (below; management only)."""

    title = "Årsrapport"
    icon = "bar_chart"
    turbo_disabled = True
    permission = staticmethod(access.may_see_annual_report)
    index_path = path("", RedirectView.as_view(pattern_name="reports:annual"), name="index")


class PersonalDataExtracts(Application):
    """The staff menu's way to a person's register extract under GDPR article 15 (below;
    administrators only)."""

    title = "Registerutdrag (GDPR)"
    icon = "badge"
    turbo_disabled = True
    permission = staticmethod(access.may_extract_personal_data)
    index_path = path("", RedirectView.as_view(pattern_name="personal_data:search"), name="index")


def home(request):
    """Where "/" leads: a visitor to the catalogue of grants; finance (and no other staff
    role) to the attestation queue; management to the annual report; officers and decision
    makers to their work list; the committee's secretary to its meetings; everyone else where
    the portal sends them."""
    user = request.user
    if not user.is_authenticated:
        return redirect("catalogue:list")
    if access.finance_only_role(user):
        return redirect("finance:payments")
    if access.management_only_role(user):
        return redirect("reports:annual")
    if access.is_case_handler(user):
        return redirect("workspace:list")
    if access.is_secretary(user):
        return redirect("committee:list")
    return portal_home(request)


# The staff interface: viewflow's frontend with the one grant flow.
staff_site = Site(
    title="Bidragshandläggning",
    viewsets=[
        CaseList(app_name="arenden"),
        Application(
            title="Bidragsärenden",
            icon="volunteer_activism",
            app_name="cases",
            viewsets=[
                GrantFlowViewset(GrantFlow, icon="assignment"),
            ],
        ),
        CommitteeMeetings(app_name="namnden"),
        MeetingLetters(app_name="beslutsbrev"),
        Payments(app_name="ekonomi"),
        Associations(app_name="verifiering"),
        AnnualReport(app_name="ledning"),
        PersonalDataExtracts(app_name="personuppgifter"),
        case_messages.StaffSettingsMenu(app_name="epost"),
    ],
)

# The decision maker's pages for a committee meeting's letters (before staff/, which is viewflow's).
meeting_urls = (
    [
        path("", meetings.meeting_list, name="list"),
        path("<int:pk>/", meetings.meeting_detail, name="detail"),
        path("<int:pk>/tillkannagivande/", meetings.meeting_announce, name="announce"),
        path("<int:pk>/beslutsbrev/", meetings.meeting_letters_start, name="start"),
        path("<int:pk>/beslutsbrev/framsteg/", meetings.meeting_letters_progress, name="progress"),
    ],
    "meetings",
)

# Finance's pages: the attestation queue, payment files and the bank's status reports.
finance_urls = (
    [
        path("", finance.payments, name="payments"),
        path("betalfiler/", finance.batch_list, name="batches"),
        path("betalfiler/ny/", finance.batch_create, name="batch_create"),
        path("betalfiler/<int:pk>/", finance.batch_detail, name="batch"),
        path("betalfiler/<int:pk>/fil/<str:kind>/", finance.batch_download, name="batch_file"),
        path("betalfiler/<int:pk>/markera/", finance.batch_mark, name="batch_mark"),
        path("betalfiler/<int:pk>/statusrapport/", finance.batch_status_report, name="status_report"),
        *finance.claim_urls,
        *finance.account_urls,
        *finance.ledger_urls,
    ],
    "finance",
)

# Management's annual grant report, its exports and the selection's open data.
report_urls = (
    [
        path("", reports.annual, name="annual"),
        path("excel/", reports.export_xlsx, name="xlsx"),
        path("csv/", reports.export_csv, name="csv"),
        path("pdf/", reports.export_pdf, name="pdf"),
        path("oppna-data.json", reports.open_data_json, name="open_data_json"),
        path("oppna-data.csv", reports.open_data_csv, name="open_data_csv"),
    ],
    "reports",
)

# The year's granted decisions as 360Giving open data, public (decisions are public records).
open_data_urls = (
    [
        path("bidrag-<int:year>.json", reports.public_json, name="json"),
        path("bidrag-<int:year>.csv", reports.public_csv, name="csv"),
    ],
    "open_data",
)

admin.site.site_header = "Bidrag – systemförvaltning"
admin.site.site_title = "Bidrag"

urlpatterns = [
    path("", home, name="home"),
    # Failed logins are counted per account and address, per address and per account
    # (RATE_LIMIT_LOGIN_FAILURES*); past a limit the answer is 429.
    path("konto/logga-in/", limit_login_failures(identity_views.LoginView.as_view()), name="login"),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("konto/losenord/", include("grants.portal.passwords")),
    path("konto/tvastegsverifiering/", include("grants.identity.second_factor")),
    path("konto/", include("grants.portal.accounts")),
    path("konto/", include("grants.identity.urls")),
    path("portal/", include("grants.portal.urls")),
    path("bidrag/", include("grants.portal.catalogue_urls")),
    path("tillganglighet/", catalogue.accessibility_statement, name="accessibility"),
    path("sprak/", language_choose, name="set_language"),
    path("dokument/<int:pk>/", document_download, name="document"),
    path("admin/login/", limit_login_failures(admin.site.login)),
    path("admin/", admin.site.urls),
    # The staff interface's start: officers and decision makers to their work list, the
    # rest to the flow's queue (workflows.lists.DashboardRedirect decides).
    path("staff/", RedirectView.as_view(url="/staff/cases/grant/"), name="staff_start"),
    path("staff/arenden/", include("workflows.workspace")),
    path("staff/sammantraden/", include(meeting_urls)),
    path("staff/namnd/", include((committee.urlpatterns, "committee"))),
    path("staff/utbetalningar/", include(finance_urls)),
    path("staff/arsrapport/", include(report_urls)),
    # A person's register extract under GDPR article 15 (administrators).
    path("staff/registerutdrag/", include((personal_data_pages.urlpatterns, "personal_data"))),
    path("staff/foreningar/", include((associations.urlpatterns, "associations"))),
    # Assessment by several reviewers: the officer's page for a case, the reviewer's list and form.
    path("staff/granskning/", include((reviews.urlpatterns, "reviews"))),
    # A closed case's archive package for the e-archive (documents/archive.py).
    path("staff/arkiv/<int:pk>/", archive_download, name="archive_package"),
    # A case's messages and notes, and the staff's e-mail setting (workflows/messages.py).
    path("staff/arenden/<int:pk>/", include(case_messages.case_urls)),
    path("staff/installningar/", include(case_messages.settings_urls)),
    path("oppna-data/", include(open_data_urls)),
    # The public register (diarium) and a case's register for its officers (grants/records/diarium.py).
    path("diarium/arende/<int:pk>/registerutdrag.pdf", register_extract_pdf, name="diarium_extract"),
    path("diarium/", include("grants.records.diarium")),
    path("staff/arenden/", include(diarium.staff_urlpatterns)),
    # The REST API for the municipality's other systems (workflows/api/).
    path("api/v1/", include("workflows.api.urls")),
    path("staff/", staff_site.urls),
]
