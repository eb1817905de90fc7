"""Assessment by several reviewers (issue 18): the inclusion project grant asks for two
reviewers who score three weighted criteria. Olle assigns Rut and Ragnar; Ragnar declares jäv
and Olle assigns Rolf instead; Rut and Rolf score every criterion with a comment; Olle sees
the scores side by side with the weighted average, writes the proposal, and Otto decides.
Programmes without criteria keep the single assessment (the rest of the suite)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import Application, CaseEvent, Membership, Review, ScoringCriterion
from grants.services import apply, assess, decide, reviews
from tests import factories
from tests.factories import hand_task_to
from workflows.flows import GrantFlow

pytestmark = pytest.mark.django_db

CRITERIA = (
    # name, scale, weight
    ("Når barn och unga som annars står utanför", 5, 3),
    ("Genomförbarhet", 5, 2),
    ("Rimlig budget", 5, 1),
)


@pytest.fixture
def programme(db):
    programme = factories.programme("inkludering", reviewers_required=2)
    for position, (name, scale, weight) in enumerate(CRITERIA):
        ScoringCriterion.objects.create(
            programme=programme, name=name, scale_max=scale, weight=Decimal(weight), position=position
        )
    return programme


@pytest.fixture
def case(programme, anna, fisksatra, olle):
    call = factories.call(programme)
    application = apply.application_submit(application=factories.draft(call, fisksatra, anna), by=anna)
    assess.completeness_confirm(application=application, by=olle)
    return Application.objects.get(pk=application.pk)


def reviewer(username, first_name, programme):
    return factories.user(username, role="Granskare", first_name=first_name, committees=[programme.committee])


def scores_of(programme, *values, comment="Motivering."):
    return {
        criterion.pk: (value, f"{comment} {criterion.name}")
        for criterion, value in zip(programme.criteria.all(), values, strict=True)
    }


def propose(case, olle):
    return assess.assessment_record(
        application=case,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal("40000"),
        justification="Granskarna ger projektet 4 av 5 i viktat medelvärde.",
    )


def test_two_reviewers_one_conflicted_and_replaced_then_proposal_and_decision(client, programme, case, olle, otto):
    rut = reviewer("rut", "Rut", programme)
    ragnar = reviewer("ragnar", "Ragnar", programme)
    rolf = reviewer("rolf", "Rolf", programme)

    # Before any review, the proposal waits for both.
    with pytest.raises(ValidationError) as refusal:
        propose(case, olle)
    assert "2 granskningar saknas" in refusal.value.messages[0]

    review_rut = reviews.review_assign(application=case, reviewer=rut, by=olle)
    review_ragnar = reviews.review_assign(application=case, reviewer=ragnar, by=olle)

    # Ragnar reads his list and declares jäv on his form.
    client.force_login(ragnar)
    assert "Fisksätra IF" in client.get("/staff/granskning/").content.decode()
    assert client.get(f"/staff/granskning/{review_ragnar.pk}/").status_code == 200
    response = client.post(f"/staff/granskning/{review_ragnar.pk}/jav/", {"reason": "Min dotter spelar i laget."})
    assert response.status_code == 302
    review_ragnar.refresh_from_db()
    assert review_ragnar.conflicted and review_ragnar.submitted_at is None
    # Once conflicted, he cannot be assigned again, nor submit scores.
    with pytest.raises(ValidationError, match="har anmält jäv"):
        reviews.review_assign(application=case, reviewer=ragnar, by=olle)
    with pytest.raises(PermissionDenied):
        reviews.review_submit(review=review_ragnar, by=ragnar, no_conflict=True, scores=scores_of(programme, 3, 3, 3))

    # Rut submits through the service; one review is still missing.
    reviews.review_submit(review=review_rut, by=rut, no_conflict=True, scores=scores_of(programme, 5, 4, 3))
    with pytest.raises(ValidationError) as refusal:
        propose(case, olle)
    assert "1 granskning saknas" in refusal.value.messages[0]

    # Olle assigns Rolf on the case's review page; Ragnar is not offered again.
    client.force_login(olle)
    page = client.get(f"/staff/granskning/arende/{case.pk}/").content.decode()
    assert "Min dotter spelar i laget." in page
    assert f'<option value="{rolf.pk}">Rolf</option>' in page
    assert f'<option value="{ragnar.pk}">' not in page
    assert client.post(f"/staff/granskning/arende/{case.pk}/utse/", {"reviewer": rolf.pk}).status_code == 302
    review_rolf = Review.objects.get(application=case, reviewer=rolf)

    # Rolf scores on his form: first without the jäv declaration, then with a score out of scale.
    client.force_login(rolf)
    criteria = list(programme.criteria.all())
    form = {f"score_{c.pk}": str(v) for c, v in zip(criteria, (4, 3, 5), strict=True)}
    form |= {f"comment_{c.pk}": f"Rolf om {c.name}" for c in criteria}
    response = client.post(f"/staff/granskning/{review_rolf.pk}/lamna-in/", form)
    assert response.status_code == 400
    assert "Intyga att du inte är jävig" in response.content.decode()
    response = client.post(
        f"/staff/granskning/{review_rolf.pk}/lamna-in/", form | {"no_conflict": "on", f"score_{criteria[0].pk}": "6"}
    )
    assert response.status_code == 400
    response = client.post(f"/staff/granskning/{review_rolf.pk}/lamna-in/", form | {"no_conflict": "on"})
    assert response.status_code == 302
    review_rolf.refresh_from_db()
    assert review_rolf.submitted_at is not None and review_rolf.no_conflict_declared

    # The summary: each reviewer's score and comment per criterion, and the weighted average
    # sum(score/scale*weight)/sum(weight) = (3 + 1.6 + 0.6 + 2.4 + 1.2 + 1) / 12.
    summary = reviews.review_summary(case)
    assert [review.reviewer for review in summary.submitted] == [rut, rolf]
    assert [[score.score for _, score in row.cells] for row in summary.criteria] == [[5, 4], [4, 3], [3, 5]]
    assert summary.criteria[0].cells[1][1].comment == f"Rolf om {criteria[0].name}"
    assert summary.weighted_share == Decimal("9.8") / Decimal(12)
    assert summary.weighted_on_scale == Decimal("4.08")
    assert summary.per_reviewer == {
        review_rut.pk: Decimal("5.2") / Decimal(6),
        review_rolf.pk: Decimal("4.6") / Decimal(6),
    }
    assert summary.missing == 0
    client.force_login(olle)
    page = client.get(f"/staff/granskning/arende/{case.pk}/").content.decode()
    assert "4,08 av 5" in page and "Rolf om Rimlig budget" in page

    # The proposal, then the decision on delegation by Otto.
    assessment = propose(case, olle)
    assert not assessment.needs_committee
    hand_task_to(case, GrantFlow.decide_by_officer, otto)
    decide.decision_make(
        application=case, by=otto, outcome="approved", amount=Decimal("40000"), reasons="Enligt granskningen."
    )
    case.refresh_from_db()
    assert case.status == Application.Status.APPROVED
    actions = list(CaseEvent.objects.filter(application=case).values_list("action", flat=True))
    for action in ("Granskare utsedd", "Jäv anmält i granskning", "Granskning inlämnad", "Bedömning klar"):
        assert action in actions
    assert actions.count("Granskare utsedd") == 3
    # Once decided, no more reviewers.
    with pytest.raises(ValidationError, match="under bedömning"):
        reviews.review_assign(application=case, reviewer=factories.user("rita", role="Granskare"), by=olle)


def test_the_summary_is_on_the_staff_case_summary(client, programme, case, olle):
    rut = reviewer("rut", "Rut", programme)
    review = reviews.review_assign(application=case, reviewer=rut, by=olle)
    reviews.review_submit(review=review, by=rut, no_conflict=True, scores=scores_of(programme, 4, 4, 4))
    client.force_login(olle)
    process = case.process
    page = client.get(f"/staff/cases/grant/{process.pk}/").content.decode()
    assert "Granskning" in page and f"/staff/granskning/arende/{case.pk}/" in page
    assert "4,00 av 5" in page and "1 saknas" in page


def test_a_score_out_of_scale_or_missing_is_refused(programme, case, olle):
    rut = reviewer("rut", "Rut", programme)
    review = reviews.review_assign(application=case, reviewer=rut, by=olle)
    first = programme.criteria.first()
    with pytest.raises(ValidationError) as refusal:
        reviews.review_submit(review=review, by=rut, no_conflict=True, scores=scores_of(programme, 6, 4, 0))
    assert refusal.value.message_dict[f"score_{first.pk}"] == [f"Poängen för {first.name} är 1–5."]
    assert len(refusal.value.message_dict) == 2
    scores = scores_of(programme, 4, 4, 4)
    del scores[first.pk]
    with pytest.raises(ValidationError, match="Ge .* ett poäng"):
        reviews.review_submit(review=review, by=rut, no_conflict=True, scores=scores)
    with pytest.raises(ValidationError, match="Intyga"):
        reviews.review_submit(review=review, by=rut, no_conflict=False, scores=scores_of(programme, 4, 4, 4))
    review.refresh_from_db()
    assert review.submitted_at is None and not review.scores.exists()


def test_the_applicants_member_and_non_reviewers_cannot_review(programme, case, olle, anna, fisksatra, fia, eve):
    bengt = reviewer("bengt", "Bengt", programme)
    Membership.objects.create(user=bengt, organisation=fisksatra, role=Membership.Role.MEMBER)
    with pytest.raises(PermissionDenied, match="tillhör den sökande"):
        reviews.review_assign(application=case, reviewer=bengt, by=olle)
    for person in (anna, fia, eve):
        with pytest.raises(PermissionDenied):
            reviews.review_assign(application=case, reviewer=person, by=olle)
    # A reviewer does not assign reviewers.
    rut = reviewer("rut", "Rut", programme)
    with pytest.raises(PermissionDenied):
        reviews.review_assign(application=case, reviewer=rut, by=rut)
    assert not Review.objects.exists()


def test_a_reviewer_reading_another_case_is_refused(client, programme, case, olle, anna, fisksatra):
    rut = reviewer("rut", "Rut", programme)
    rolf = reviewer("rolf", "Rolf", programme)
    review = reviews.review_assign(application=case, reviewer=rut, by=olle)
    client.force_login(rolf)
    assert client.get(f"/staff/granskning/{review.pk}/").status_code == 403
    assert client.post(f"/staff/granskning/{review.pk}/jav/", {"reason": "x"}).status_code == 403
    assert client.get(f"/staff/granskning/arende/{case.pk}/").status_code == 403
    assert client.get("/staff/granskning/").status_code == 200
    # Nor does Anna, the applicant.
    client.force_login(anna)
    assert client.get(f"/staff/granskning/{review.pk}/").status_code == 403
    assert client.get("/staff/granskning/").status_code == 403


def test_without_criteria_the_single_assessment_stands(anna, fisksatra, olle, inclusion_call):
    inclusion_call.programme.reviewers_required = 2
    inclusion_call.programme.save()
    application = apply.application_submit(application=factories.draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assert reviews.reviews_missing(application) == 0
    with pytest.raises(ValidationError, match="inga bedömningskriterier"):
        reviews.review_assign(
            application=application, reviewer=reviewer("rut", "Rut", inclusion_call.programme), by=olle
        )
    propose(application, olle)


@pytest.mark.parametrize("count", [2, 4])
def test_the_officers_page_takes_a_fixed_number_of_queries(client, programme, case, olle, count):
    for n in range(count):
        person = reviewer(f"granskare{n}", f"Granskare {n}", programme)
        review = reviews.review_assign(application=case, reviewer=person, by=olle)
        reviews.review_submit(review=review, by=person, no_conflict=True, scores=scores_of(programme, 3, 4, 5))
    # One more assigned, not yet submitted, and one more eligible to assign.
    reviews.review_assign(application=case, reviewer=reviewer("rut", "Rut", programme), by=olle)
    reviewer("rolf", "Rolf", programme)
    client.force_login(olle)
    url = f"/staff/granskning/arende/{case.pk}/"
    assert client.get(url).status_code == 200  # warm-up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("<td><strong>") == 3 * count
    assert len(queries) == PAGE_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)


PAGE_QUERIES = 12
