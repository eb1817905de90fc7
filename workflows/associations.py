"""The officers' list of associations to verify (/staff/foreningar/…): associations registered
in the portal that wait for an officer, and claims on organisationsnummer that already had a
profile, each with its evidence, board and registrant. Every change goes through
grants.services.organisations; who may see and act is access.may_verify_associations."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from grants import access
from grants.files import read_stored
from grants.models import ClaimFile, Membership, Organisation, OrganisationClaim, OrganisationFile
from grants.services import organisations
from grants.web import refusal_messages, stored_file_response

PAGE_SIZE = 25
# The latest decisions the page shows below the waiting ones.
DECIDED = 20

verifiers_only = access.required(
    access.may_verify_associations, "Föreningar verifieras av handläggare och systemförvaltare."
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Skäl",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Den sökande får se skälet, t.ex. ”Årsmötesprotokollet visar inte vem som tecknar firman”.",
        error_messages={"required": "Skriv skälet. Den sökande får se det."},
    )


class AcceptClaimForm(forms.Form):
    remove_others = forms.BooleanField(
        label="Ta bort föreningens övriga personer i portalen (de hade ingen rätt att företräda den)",
        required=False,
    )


def _officer(request: HttpRequest) -> User:
    """The signed-in officer (every view here is behind verifiers_only, which requires a sign-in)."""
    assert isinstance(request.user, User)
    return request.user


def _page(
    request: HttpRequest,
    *,
    errors: list[str] | tuple[str, ...] = (),
    forms_by_key: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The waiting associations (oldest first) and claims, with what the officer judges them
    by, and the latest decisions. A fixed number of queries whatever their number."""
    forms_by_key = forms_by_key or {}
    waiting = Organisation.objects.filter(
        kind=Organisation.Kind.ASSOCIATION, verification=Organisation.Verification.UNVERIFIED
    ).order_by("registered_at", "pk")
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("sida"))
    rows: list[Any] = list(page.object_list)
    claims: list[Any] = list(
        OrganisationClaim.objects.filter(status=OrganisationClaim.Status.PENDING)
        .select_related("organisation", "claimant")
        .prefetch_related("files")
        .order_by("created_at", "pk")[:PAGE_SIZE]
    )
    organisation_ids = {row.pk for row in rows} | {claim.organisation_id for claim in claims}
    files: dict[int, dict[str, OrganisationFile]] = {}
    for file in OrganisationFile.objects.filter(organisation__in=organisation_ids):  # newest first per kind
        files.setdefault(file.organisation_id, {}).setdefault(file.kind, file)
    people: dict[int, list[Membership]] = {}
    for membership in (
        Membership.objects.filter(organisation__in=organisation_ids).select_related("user").order_by("pk")
    ):
        people.setdefault(membership.organisation_id, []).append(membership)
    member_of = set(Membership.objects.filter(user=_officer(request)).values_list("organisation_id", flat=True))
    for row in rows:
        row.current_files = [files.get(row.pk, {}).get(kind) for kind in organisations.EVIDENCE_KINDS]
        row.people = people.get(row.pk, [])
        row.registrant = row.people[0] if row.people else None  # the first membership is the registrant's
        row.may_not = "Du tillhör föreningen och får inte verifiera den." if row.pk in member_of else ""
        row.refusal_form = forms_by_key.get(f"org-{row.pk}") or ReasonForm(prefix=f"org-{row.pk}")
    for claim in claims:
        claim.current_files = [files.get(claim.organisation_id, {}).get(kind) for kind in organisations.EVIDENCE_KINDS]
        claim.people = people.get(claim.organisation_id, [])
        claim.may_not = (
            "Du är part i anspråket och får inte pröva det."
            if claim.claimant_id == request.user.pk or claim.organisation_id in member_of
            else ""
        )
        claim.accept_form = forms_by_key.get(f"accept-{claim.pk}") or AcceptClaimForm(prefix=f"accept-{claim.pk}")
        claim.refusal_form = forms_by_key.get(f"claim-{claim.pk}") or ReasonForm(prefix=f"claim-{claim.pk}")
    decided = (
        Organisation.objects.filter(kind=Organisation.Kind.ASSOCIATION, verified_by__isnull=False)
        .select_related("verified_by")
        .order_by("-verified_at", "-pk")[:DECIDED]
    )
    return render(
        request,
        "associations/verification_list.html",
        {"page": page, "rows": rows, "claims": claims, "decided": decided, "errors": errors},
        status=status,
    )


@require_GET
@verifiers_only
def verification_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@verifiers_only
def association_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Verify (action=verify) or refuse with a reason (action=refuse) one association."""
    organisation = get_object_or_404(Organisation, pk=pk, kind=Organisation.Kind.ASSOCIATION)
    action = request.POST.get("action")
    form = ReasonForm(request.POST, prefix=f"org-{organisation.pk}")
    try:
        if action == "verify":
            organisations.association_verify(organisation=organisation, by=_officer(request))
            text = f"{organisation.name} är verifierad. Föreningen har meddelats och kan skicka in ansökningar."
        elif action == "refuse" and form.is_valid():
            organisations.association_refuse(
                organisation=organisation, by=_officer(request), reason=form.cleaned_data["reason"]
            )
            text = f"{organisation.name} är inte verifierad. Föreningen har fått skälet och kan skicka nya underlag."
        elif action == "refuse":
            return _page(request, forms_by_key={f"org-{organisation.pk}": form}, status=400)
        else:
            raise ValidationError("Okänd åtgärd. Ladda om sidan och försök igen.")
    except (ValidationError, PermissionDenied) as exc:
        return _page(request, status=400, errors=[f"{organisation.name}: {error}" for error in refusal_messages(exc)])
    messages.success(request, text)
    return redirect("associations:list")


@require_POST
@verifiers_only
def claim_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept (action=accept, optionally removing the other members) or refuse with a reason one claim."""
    claim = get_object_or_404(OrganisationClaim.objects.select_related("organisation", "claimant"), pk=pk)
    action = request.POST.get("action")
    name = claim.organisation.name
    try:
        if action == "accept":
            accept = AcceptClaimForm(request.POST, prefix=f"accept-{claim.pk}")
            accept.is_valid()  # a tick box: always valid
            organisations.claim_accept(
                claim=claim, by=_officer(request), remove_others=accept.cleaned_data.get("remove_others", False)
            )
            text = f"Anspråket är godtaget: {claim.claimant.get_full_name() or claim.claimant.email} är firmatecknare för {name}."
        elif action == "refuse":
            form = ReasonForm(request.POST, prefix=f"claim-{claim.pk}")
            if not form.is_valid():
                return _page(request, forms_by_key={f"claim-{claim.pk}": form}, status=400)
            organisations.claim_refuse(claim=claim, by=_officer(request), reason=form.cleaned_data["reason"])
            text = f"Anspråket på {name} är avslaget. Den som gjorde det har fått skälet."
        else:
            raise ValidationError("Okänd åtgärd. Ladda om sidan och försök igen.")
    except (ValidationError, PermissionDenied) as exc:
        return _page(request, status=400, errors=[f"{name}: {error}" for error in refusal_messages(exc)])
    messages.success(request, text)
    return redirect("associations:list")


@require_GET
@verifiers_only
def claim_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A claim's evidence, for the officer only (the association's members never see it)."""
    row = get_object_or_404(ClaimFile, pk=pk)
    return stored_file_response(
        request, lambda: (row.filename, row.content_type, read_stored(row.storage_key, row.sha256))
    )


urlpatterns = [
    path("", verification_list, name="list"),
    path("<int:pk>/", association_decide, name="decide"),
    path("ansprak/<int:pk>/", claim_decide, name="claim"),
    path("ansprak/fil/<int:pk>/", claim_file, name="claim_file"),
]
