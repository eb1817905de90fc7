"""Assessment by several reviewers (issue 18): the officer assigns reviewers to a case in
assessment, each reviewer declares jäv or scores every criterion of the programme with a
comment, and the officer reads the scores side by side with the weighted average before
writing the proposal (assess.assessment_record waits for programme.reviewers_required
submitted reviews)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from .. import access
from ..models import Application, Review, ReviewScore, ScoringCriterion
from ._base import lock_application, record_event, service_transaction

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def reviews_missing(application: Application) -> int:
    """How many more submitted reviews the programme asks for before the officer's proposal
    (0 when the programme has no criteria: today's single assessment)."""
    programme = application.call.programme
    if not programme.reviewers_required or not programme.criteria.exists():
        return 0
    submitted = application.reviews.filter(submitted_at__isnull=False).count()
    return max(programme.reviewers_required - submitted, 0)


def review_assign(*, application: Application, reviewer: User, by: User) -> Review:
    """The case's officer assigns a reviewer while the case is in assessment; never one of the
    applicant's members, nor someone who declared jäv in the case."""
    access.require(access.is_officer(by), "Granskare utses av ärendets handläggare.")
    with service_transaction():
        application = lock_application(application)
        access.require(access.may_take_part(by, application))
        if application.status != Application.Status.IN_ASSESSMENT:
            raise ValidationError("Granskare kan bara utses medan ärendet är under bedömning.")
        if not application.call.programme.criteria.exists():
            raise ValidationError("Bidragsformen har inga bedömningskriterier att granska mot.")
        access.require(access.may_be_reviewer(reviewer, application))
        previous = Review.objects.filter(application=application, reviewer=reviewer).first()
        if previous is not None:
            if previous.conflict_reason:
                raise ValidationError(f"{_name(reviewer)} har anmält jäv i ärendet och kan inte granska det.")
            raise ValidationError(f"{_name(reviewer)} är redan granskare i ärendet.")
        try:
            review = Review.objects.create(application=application, reviewer=reviewer, assigned_by=by)
        except IntegrityError as exc:  # pragma: no cover (the lock above serialises assignments)
            raise ValidationError(f"{_name(reviewer)} är redan granskare i ärendet.") from exc
        record_event(application, by=by, action="Granskare utsedd", note=_name(reviewer))
    return review


def review_conflict_declare(*, review: Review, by: User, reason: str) -> Review:
    """The reviewer declares jäv: her review is closed as conflicted, and the officer assigns
    someone else."""
    if not reason.strip():
        raise ValidationError("Ange kort varför du är jävig.")
    if review.reviewer_id != by.pk:
        raise PermissionDenied("Bara granskaren själv anmäler jäv i sin granskning.")
    with service_transaction():
        application = lock_application(review.application)
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.submitted_at is not None:
            raise ValidationError("Granskningen är redan inlämnad.")
        if review.conflict_reason:
            return review
        review.conflict_reason = reason.strip()
        review.no_conflict_declared = False
        review.save(update_fields=["conflict_reason", "no_conflict_declared"])
        record_event(application, by=by, action="Jäv anmält i granskning", note=reason.strip())
    return review


def review_submit(*, review: Review, by: User, no_conflict: bool, scores: dict[int, tuple[int, str]]) -> Review:
    """The reviewer submits her review: she is not conflicted, and every criterion of the
    programme has a score within its scale (1..scale_max), with a comment."""
    if not no_conflict:
        raise ValidationError("Intyga att du inte är jävig, eller anmäl jäv.")
    if review.reviewer_id != by.pk:
        raise PermissionDenied("Bara granskaren själv lämnar in sin granskning.")
    with service_transaction():
        application = lock_application(review.application)
        access.require(access.may_review(by, application))
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.submitted_at is not None:
            raise ValidationError("Granskningen är redan inlämnad.")
        if application.status != Application.Status.IN_ASSESSMENT:
            raise ValidationError("Ärendet är inte längre under bedömning.")
        criteria = list(application.call.programme.criteria.all())
        errors: dict[str, list[str]] = {}
        rows = []
        for criterion in criteria:
            given = scores.get(criterion.pk)
            if given is None or given[0] is None:
                errors.setdefault(f"score_{criterion.pk}", []).append(f"Ge {criterion.name} ett poäng.")
                continue
            score, comment = given
            if not 1 <= int(score) <= criterion.scale_max:
                errors.setdefault(f"score_{criterion.pk}", []).append(
                    f"Poängen för {criterion.name} är 1–{criterion.scale_max}."
                )
                continue
            rows.append(ReviewScore(review=review, criterion=criterion, score=int(score), comment=comment.strip()))
        unknown = set(scores) - {criterion.pk for criterion in criteria}
        if unknown:
            errors.setdefault("__all__", []).append("Poäng för ett kriterium som bidragsformen inte har.")
        if errors:
            raise ValidationError(errors)
        ReviewScore.objects.bulk_create(rows)
        review.no_conflict_declared = True
        review.submitted_at = timezone.now()
        review.save(update_fields=["no_conflict_declared", "submitted_at"])
        record_event(application, by=by, action="Granskning inlämnad", note=_name(by))
    return review


# --- the summary --------------------------------------------------------------------------


TWO_PLACES = Decimal("0.01")


@dataclass
class CriterionSummary:
    criterion: ScoringCriterion
    # (review, score or None) for each review in the summary's order
    cells: list[tuple[Review, ReviewScore | None]] = field(default_factory=list)

    @property
    def average(self) -> Decimal | None:
        given = [score.score for _, score in self.cells if score is not None]
        if not given:
            return None
        return (Decimal(sum(given)) / len(given)).quantize(TWO_PLACES, ROUND_HALF_UP)


@dataclass
class ReviewSummary:
    criteria: list[CriterionSummary]
    reviews: list[Review]  # every review, conflicted ones included (as closed)
    submitted: list[Review]
    required: int
    # sum(score/scale_max*weight)/sum(weight) over the submitted reviews' scores (0..1), and the
    # same on each criterion's own scale when they share one (weighted_on_scale); None without scores
    weighted_share: Decimal | None
    per_reviewer: dict[int, Decimal]  # a submitted review's own weighted share, by review pk

    @property
    def missing(self) -> int:
        return max(self.required - len(self.submitted), 0)

    @property
    def scale_max(self) -> int | None:
        scales = {row.criterion.scale_max for row in self.criteria}
        return scales.pop() if len(scales) == 1 else None

    @property
    def weighted_on_scale(self) -> Decimal | None:
        """The weighted average on the criteria's scale (e.g. 3.70 of 5), when they share one."""
        if self.weighted_share is None or self.scale_max is None:
            return None
        return (self.weighted_share * self.scale_max).quantize(TWO_PLACES, ROUND_HALF_UP)

    @property
    def weighted_percent(self) -> Decimal | None:
        if self.weighted_share is None:
            return None
        return (self.weighted_share * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


def weighted_share(pairs: list[tuple[ScoringCriterion, int]]) -> Decimal | None:
    """sum(score/scale_max*weight)/sum(weight) of (criterion, score) pairs, exact (unrounded)
    as far as Decimal's precision goes; None without pairs."""
    if not pairs:
        return None
    total_weight = sum((criterion.weight for criterion, _ in pairs), Decimal(0))
    total = sum((Decimal(score) / criterion.scale_max * criterion.weight for criterion, score in pairs), Decimal(0))
    return total / total_weight


def review_summary(application: Application) -> ReviewSummary:
    """Per criterion each reviewer's score and comment, and the weighted average, in three
    queries (the criteria, the reviews with their reviewers, the scores) whatever the number
    of reviewers."""
    programme = application.call.programme
    criteria = list(ScoringCriterion.objects.filter(programme_id=programme.pk))
    reviews = list(Review.objects.filter(application=application).select_related("reviewer"))
    scores = list(ReviewScore.objects.filter(review__application=application))
    by_cell = {(score.review_id, score.criterion_id): score for score in scores}
    submitted = [review for review in reviews if review.submitted_at is not None]
    rows = [
        CriterionSummary(criterion, [(review, by_cell.get((review.pk, criterion.pk))) for review in submitted])
        for criterion in criteria
    ]
    by_criterion = {criterion.pk: criterion for criterion in criteria}
    pairs = [(by_criterion[score.criterion_id], score.score) for score in scores if score.criterion_id in by_criterion]
    per_reviewer = {}
    for review in submitted:
        own = [(by_criterion[s.criterion_id], s.score) for s in scores if s.review_id == review.pk]
        share = weighted_share(own)
        if share is not None:
            per_reviewer[review.pk] = share
    return ReviewSummary(
        criteria=rows,
        reviews=reviews,
        submitted=submitted,
        required=programme.reviewers_required,
        weighted_share=weighted_share(pairs),
        per_reviewer=per_reviewer,
    )
