from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"


@csrf_exempt  # nothing is changed; a POST to a wrong address is told so, not asked for a CSRF token
def not_found(request, rest=""):
    """Any other address under /api/v1/: a JSON 404 (not the site's HTML page)."""
    return JsonResponse({"detail": "Finns inte."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("programmes/", views.ProgrammeList.as_view(), name="programmes"),
    path("calls/", views.CallList.as_view(), name="calls"),
    path("open-data/<int:year>/", views.OpenData.as_view(), name="open_data"),
    path("cases/", views.CaseList.as_view(), name="cases"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case"),
    path("decisions/", views.DecisionList.as_view(), name="decisions"),
    path("documents/<int:pk>/", views.DocumentDetail.as_view(), name="document"),
    path("documents/<int:pk>/download/", views.DocumentDownload.as_view(), name="document_download"),
    path("payments/", views.PaymentList.as_view(), name="payments"),
    path("payments/<int:pk>/paid/", views.PaymentPaid.as_view(), name="payment_paid"),
    path("payment-files/", views.PaymentFileList.as_view(), name="payment_files"),
    path("payment-files/<int:pk>/", views.PaymentFileDetail.as_view(), name="payment_file"),
    path("payment-files/<int:pk>/download/", views.PaymentFileDownload.as_view(), name="payment_file_download"),
    re_path(r"^(?P<rest>.*)$", not_found),
]
