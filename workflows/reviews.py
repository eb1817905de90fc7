"""Assessment by several reviewers (issue 18), /staff/granskning/…: the officer's page for a
case (assign reviewers, the scores side by side with the weighted average), the reviewer's
list of her reviews, and her form (jäv first, then a score and a comment per criterion).
Every change goes through grants.services.reviews."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST
from viewflow.workflow import STATUS

from grants import access
from grants.models import Application, Review, ScoringCriterion
from grants.services import reviews
from grants.web import refusal_messages, refusal_to_form

officers_only = access.required(access.is_officer, "Granskare utses av handläggare.")
reviewers_only = access.required(access.is_reviewer, "Sidan är till för granskare.")


def _person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _case(request: HttpRequest, pk: int) -> Application:
    application = get_object_or_404(
        Application.objects.select_related("call__programme__committee", "organisation"), pk=pk
    )
    access.require(access.may_see_case(request.user, application))
    access.require(access.may_read_case_details(request.user, application))
    return application


def eligible_reviewers(application: Application) -> list[User]:
    """Whom the officer may assign: reviewers and case handlers who work for the case's
    committee, not yet assigned (nor conflicted) in it, not members of the applicant and
    without a declared jäv in the case. Three queries."""
    from grants.models import ConflictOfInterest, Membership

    committee_id = application.call.programme.committee_id
    roles = Q(groups__permissions__codename__in=["review_application", "handle_application", "decide_application"])
    roles &= Q(groups__permissions__content_type__app_label="grants")
    in_committee = Q(staff_scope__all_committees=True) | Q(staff_scope__committees=committee_id) | Q(is_superuser=True)
    taken = Review.objects.filter(application=application).values("reviewer_id")
    conflicted = ConflictOfInterest.objects.filter(application=application).values("user_id")
    members = Membership.objects.filter(
        organisation_id__in=[application.organisation_id, application.organisation.sponsor_id],
        status=Membership.Status.CONFIRMED,
    ).values("user_id")
    return list(
        User.objects.filter(roles, in_committee, is_active=True)
        .exclude(pk__in=taken)
        .exclude(pk__in=conflicted)
        .exclude(pk__in=members)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        label="Granskare",
        queryset=User.objects.none(),
        empty_label="Välj granskare",
        error_messages={"required": "Välj vem som ska granska ansökan."},
    )

    def __init__(self, *args: Any, choices: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[person.pk for person in choices])
        # The choices the page already read, without a second query.
        field.choices = [("", "Välj granskare")] + [
            (person.pk, person.get_full_name() or person.get_username()) for person in choices
        ]


def _assess_task_url(application: Application) -> str | None:
    """The case's open assessment task, where the officer writes the proposal."""
    from workflows.flows import GrantFlow

    task = (
        GrantFlow.task_class.objects.filter(
            process__grantprocess__application=application,
            flow_task=GrantFlow.assess,
            status__in=[STATUS.NEW, STATUS.ASSIGNED],
        )
        .only("pk", "process_id")
        .first()
    )
    if task is None:
        return None
    return f"/staff/cases/grant/{task.process_id}/assess/{task.pk}/"


def _case_page(request: HttpRequest, application: Application, form: AssignForm | None = None, status: int = 200):
    choices = eligible_reviewers(application)
    return render(
        request,
        "reviews/case.html",
        {
            "application": application,
            "summary": reviews.review_summary(application),
            "form": form or AssignForm(choices=choices),
            "may_assign": application.status == Application.Status.IN_ASSESSMENT and bool(choices),
            "in_assessment": application.status == Application.Status.IN_ASSESSMENT,
            "assess_url": _assess_task_url(application),
        },
        status=status,
    )


@require_GET
@officers_only
def case_reviews(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_page(request, _case(request, pk))


@require_POST
@officers_only
def case_review_assign(request: HttpRequest, pk: int) -> HttpResponse:
    application = _case(request, pk)
    form = AssignForm(request.POST, choices=eligible_reviewers(application))
    if form.is_valid():
        reviewer = form.cleaned_data["reviewer"]
        try:
            reviews.review_assign(application=application, reviewer=reviewer, by=_person(request))
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc, at="reviewer")
        else:
            messages.success(request, f"{reviewer.get_full_name() or reviewer.get_username()} granskar nu ansökan.")
            return redirect("reviews:case", pk=application.pk)
    return _case_page(request, application, form, status=400)


@require_GET
@reviewers_only
def my_reviews(request: HttpRequest) -> HttpResponse:
    rows = (
        Review.objects.filter(reviewer=_person(request))
        .select_related("application__call__programme", "application__organisation")
        .order_by("submitted_at", "-assigned_at")
    )
    return render(request, "reviews/mine.html", {"reviews": rows})


class ReviewForm(forms.Form):
    """Jäv first, then a score (1..scale_max) and a comment for each criterion."""

    no_conflict = forms.BooleanField(
        label="Jag är inte jävig i ärendet (KL 6 kap. 28–32 §§)",
        required=False,
    )

    def __init__(self, *args: Any, criteria: list[ScoringCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=f"{criterion.name}: poäng 1–{criterion.scale_max} (vikt {criterion.weight.normalize()})",
                help_text=criterion.description,
                choices=[(n, str(n)) for n in range(1, criterion.scale_max + 1)],
                coerce=int,
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=f"Kommentar om {criterion.name}",
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def rows(self) -> list[tuple[ScoringCriterion, forms.BoundField, forms.BoundField]]:
        return [(c, self[f"score_{c.pk}"], self[f"comment_{c.pk}"]) for c in self.criteria]

    def scores(self) -> dict[int, tuple[int | None, str]]:
        data = self.cleaned_data
        return {c.pk: (data.get(f"score_{c.pk}") or None, data.get(f"comment_{c.pk}") or "") for c in self.criteria}


class ConflictForm(forms.Form):
    reason = forms.CharField(
        label="Varför är du jävig?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Till exempel: ”Jag sitter i föreningens styrelse”. Handläggaren utser då en annan granskare.",
        error_messages={"required": "Ange kort varför du är jävig."},
    )


def _review(request: HttpRequest, pk: int) -> Review:
    """The signed-in reviewer's own review (403 for anyone else's case)."""
    review = get_object_or_404(
        Review.objects.select_related("application__call__programme__committee", "application__organisation"), pk=pk
    )
    if review.reviewer_id != request.user.pk:
        raise PermissionDenied("Du är inte granskare i det här ärendet.")
    return review


def _review_page(
    request: HttpRequest,
    review: Review,
    form: ReviewForm | None = None,
    conflict_form: ConflictForm | None = None,
    status: int = 200,
) -> HttpResponse:
    application = review.application
    if review.is_open:
        access.require(access.may_review(request.user, application))
    criteria = list(application.call.programme.criteria.all())
    return render(
        request,
        "reviews/form.html",
        {
            "review": review,
            "application": application,
            "form": form or ReviewForm(criteria=criteria),
            "conflict_form": conflict_form or ConflictForm(),
            "scores": review.scores.select_related("criterion") if review.submitted_at else [],
            "open": review.is_open and application.status == Application.Status.IN_ASSESSMENT,
        },
        status=status,
    )


@require_GET
@reviewers_only
def review_form(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, _review(request, pk))


@require_POST
@reviewers_only
def review_form_submit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    criteria = list(review.application.call.programme.criteria.all())
    form = ReviewForm(request.POST, criteria=criteria)
    if form.is_valid():
        try:
            reviews.review_submit(
                review=review,
                by=_person(request),
                no_conflict=form.cleaned_data["no_conflict"],
                scores=form.scores(),  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                refusal_to_form(form, exc)
            else:
                refusal_to_form(form, exc, at="no_conflict")
        else:
            messages.success(request, "Tack! Din granskning är inlämnad.")
            return redirect("reviews:mine")
    return _review_page(request, review, form=form, status=400)


@require_POST
@reviewers_only
def review_conflict(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    conflict_form = ConflictForm(request.POST)
    if conflict_form.is_valid():
        try:
            reviews.review_conflict_declare(
                review=review, by=_person(request), reason=conflict_form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            for message in refusal_messages(exc):
                conflict_form.add_error("reason", message)
        else:
            messages.success(request, "Jävet är anmält. Handläggaren utser en annan granskare.")
            return redirect("reviews:mine")
    return _review_page(request, review, conflict_form=conflict_form, status=400)


urlpatterns = [
    path("", my_reviews, name="mine"),
    path("<int:pk>/", review_form, name="form"),
    path("<int:pk>/lamna-in/", review_form_submit, name="submit"),
    path("<int:pk>/jav/", review_conflict, name="conflict"),
    path("arende/<int:pk>/", case_reviews, name="case"),
    path("arende/<int:pk>/utse/", case_review_assign, name="assign"),
]
