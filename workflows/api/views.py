"""The REST API, /api/v1/ (README: API). Public and read only: programmes, calls and the
year's open data. With a key (ApiKeyAuthentication): cases, decisions, documents, payments and
payment files, read as the key's role and committees may read them in the staff pages (the
same rules, grants/access.py), and the finance system's "paid" for a payment, through the same
service as finance's page."""

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from documents import open_data
from documents.payment_files import batch_file
from documents.views import document_file_response, readable_document
from grants import access
from grants.models import Application, Call, Decision, Document, Payment, PaymentBatch, Programme
from grants.selectors import open_calls
from grants.services import pay
from grants.web import stored_file_response
from workflows.reports import FIRST_YEAR, LAST_YEAR, ReportFilters

from . import serializers


class Pages(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


def _require(answer: access.Answer) -> None:
    if not answer:
        raise exceptions.PermissionDenied(answer.reason or None)


def _pays_every_committee(user: Any) -> access.Answer:
    """Payment files hold every committee's payments: finance working for them all, as on
    finance's pages."""
    return access.is_finance(user) and access.works_for_all_committees(user)


class Rule(permissions.BasePermission):
    """A key whose role the endpoint's rule (grants/access.py) allows."""

    rule = staticmethod(access.is_case_handler)

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and view.rule(request.user))


# --- public --------------------------------------------------------------------------------


class ProgrammeList(generics.ListAPIView):
    """Active grant programmes, as the public catalogue lists them."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = serializers.ProgrammeSerializer
    pagination_class = Pages
    queryset = Programme.objects.filter(is_active=True).select_related("committee").order_by("name", "pk")


class CallList(generics.ListAPIView):
    """Calls for applications open today (`?all=true`: every call of an active programme)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = serializers.CallSerializer
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Call]:
        if self.request.query_params.get("all") == "true":
            calls = Call.objects.filter(programme__is_active=True)
        else:
            calls = open_calls()
        return calls.select_related("programme").order_by("-opens_on", "pk")


class OpenData(APIView):
    """The year's granted decisions that may be executed, in the 360Giving standard (the same
    as /oppna-data/bidrag-<year>.json)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="Inga öppna data för året")})
    def get(self, request: Request, year: int) -> Response:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise Http404(_("Inga öppna data för det året."))
        return Response(open_data.grants_360(ReportFilters(year=year)))


# --- cases, decisions and documents (officers and decision makers) ------------------------------


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Application.Status.choices)
    committee = django_filters.CharFilter(field_name="call__programme__committee__code", lookup_expr="iexact")
    programme = django_filters.CharFilter(field_name="call__programme__slug")
    year = django_filters.NumberFilter(field_name="call__year")
    organisation_number = django_filters.CharFilter(field_name="organisation__org_number")
    case_number = django_filters.CharFilter(field_name="case_number", lookup_expr="iexact")
    q = django_filters.CharFilter(method="search", label="Sök i diarienummer, rubrik och sökande")

    class Meta:
        model = Application
        fields = ["status", "committee", "programme", "year", "organisation_number", "case_number", "q"]

    def search(self, queryset: QuerySet[Application], name: str, value: str) -> QuerySet[Application]:
        return queryset.filter(
            Q(case_number__icontains=value) | Q(title__icontains=value) | Q(organisation__name__icontains=value)
        )


def _cases(user: Any) -> QuerySet[Application]:
    """The registered cases of the committees this key works in (never drafts)."""
    return (
        Application.objects.filter(access.in_scope(user))
        .exclude(case_number="")
        .select_related("call__programme__committee", "organisation")
    )


class CaseList(generics.ListAPIView):
    """Registered cases of the key's committees: search and filter as on the work list."""

    permission_classes = [Rule]
    rule = staticmethod(access.is_case_handler)
    serializer_class = serializers.CaseSerializer
    pagination_class = Pages
    filterset_class = CaseFilter

    def get_queryset(self) -> QuerySet[Application]:
        if getattr(self, "swagger_fake_view", False):  # the schema's generation, without a request
            return Application.objects.none()
        return _cases(self.request.user).order_by("-submitted_at", "-pk")


class CaseDetail(generics.RetrieveAPIView):
    """One case with its decision and its documents' metadata."""

    permission_classes = [Rule]
    rule = staticmethod(access.is_case_handler)
    serializer_class = serializers.CaseDetailSerializer

    def get_queryset(self) -> QuerySet[Application]:
        return (
            _cases(self.request.user)
            .select_related("decision__meeting")
            .prefetch_related(Prefetch("documents", queryset=Document.objects.order_by("created_at", "pk")))
        )

    def get_object(self) -> Application:
        case = super().get_object()
        _require(access.may_read_case_details(self.request.user, case))
        return case


class DecisionList(generics.ListAPIView):
    """Decisions in the key's committees (officers, decision makers, finance, management)."""

    permission_classes = [Rule]
    rule = staticmethod(access.is_staff_member)
    serializer_class = serializers.DecisionSerializer
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[Decision]:
        if getattr(self, "swagger_fake_view", False):
            return Decision.objects.none()
        return (
            Decision.objects.filter(access.in_scope(self.request.user, "application__"))
            .select_related("application", "meeting")
            .order_by("-decided_at", "-pk")
        )


class DocumentDetail(generics.GenericAPIView):
    """A document's metadata, read by the rule of the document download."""

    permission_classes = [Rule]
    rule = staticmethod(access.is_case_handler)
    serializer_class = serializers.DocumentSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.get_serializer(_document(request, pk)).data)


def _document(request: Request, pk: int) -> Document:
    try:
        return readable_document(request.user, pk)
    except PermissionDenied as denied:
        raise exceptions.PermissionDenied(str(denied) or None)


class DocumentDownload(APIView):
    """The document's file, its checksum verified (as the staff page sends it)."""

    permission_classes = [Rule]
    rule = staticmethod(access.is_case_handler)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        return document_file_response(request, _document(request, pk))


# --- payments and payment files (finance) -------------------------------------------------------


class PaymentList(generics.ListAPIView):
    """Payments of the key's committees (`?status=exported`: those in a payment file)."""

    permission_classes = [Rule]
    rule = staticmethod(access.is_finance)
    serializer_class = serializers.PaymentSerializer
    pagination_class = Pages
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[Payment]:
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return _payments(self.request.user)


def _payments(user: Any) -> QuerySet[Payment]:
    """The payments of the committees this key works in."""
    return Payment.objects.filter(access.in_scope(user, "application__")).select_related("application").order_by("-pk")


class PaymentPaid(generics.GenericAPIView):
    """The finance system registers a payment as paid by the bank: the same service as
    finance's page (the case moves on, the ledger books it)."""

    permission_classes = [Rule]
    rule = staticmethod(access.is_finance)
    serializer_class = serializers.PaidSerializer

    @extend_schema(
        responses={
            200: serializers.PaymentSerializer,
            409: OpenApiResponse(description="Utbetalningen kan inte markeras som betald i sin status"),
        }
    )
    def post(self, request: Request, pk: int) -> Response:
        payment = generics.get_object_or_404(_payments(request.user), pk=pk)
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            pay.payments_mark_paid(payment_ids=[payment.pk], by=request.user, on=given.validated_data.get("paid_on"))
        except ValidationError as refused:
            return Response({"detail": " ".join(refused.messages)}, status=status.HTTP_409_CONFLICT)
        except PermissionDenied as denied:
            raise exceptions.PermissionDenied(str(denied) or None)
        payment = Payment.objects.select_related("application").get(pk=payment.pk)
        return Response(serializers.PaymentSerializer(payment).data)


class PaymentFileList(generics.ListAPIView):
    """Payment files (pain.001) to the bank. They hold every committee's payments, so only a
    key for every committee reads them, as on finance's pages."""

    permission_classes = [Rule]
    rule = staticmethod(_pays_every_committee)
    serializer_class = serializers.PaymentFileSerializer
    pagination_class = Pages
    queryset = PaymentBatch.objects.order_by("-created_at", "-pk")


class PaymentFileDetail(generics.RetrieveAPIView):
    permission_classes = [Rule]
    rule = staticmethod(_pays_every_committee)
    serializer_class = serializers.PaymentFileSerializer
    queryset = PaymentBatch.objects.all()


class PaymentFileDownload(APIView):
    """The payment file as sent to the bank (ISO 20022 pain.001), its checksum verified."""

    permission_classes = [Rule]
    rule = staticmethod(_pays_every_committee)

    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        batch = generics.get_object_or_404(PaymentBatch.objects.all(), pk=pk)
        return stored_file_response(request, lambda: batch_file(batch, "pain001"))
