"""Who may see and do what: applicants see only their own organisation's cases, never the
staff interface; staff act only in the roles they have; downloads are checked."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from stdnum.luhn import calc_check_digit

from grants.models import Application, CaseEvent, Document
from grants.services import apply, assess, decide, pay

from .. import factories
from ..staff import BASE, draft, open_task

pytestmark = pytest.mark.django_db


def make_draft(call, organisation, by, amount="40000"):
    today = timezone.localdate()
    return apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=by,
        title="Fisksätras läxhjälp",
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal(amount),
        budget_lines=[("cost", "Ledararvoden", Decimal("50000"))],
    )


@pytest.fixture
def annas_draft(anna, fisksatra, inclusion_call):
    return make_draft(inclusion_call, fisksatra, anna)


@pytest.fixture
def annas_document(anna, annas_draft, pdf_bytes):
    return apply.application_attach(
        application=annas_draft, by=anna, filename="budget.pdf", content_type="application/pdf", content=pdf_bytes
    )


def case_urls(application, document):
    """(method, url) of every portal page and action on one case."""
    pk = application.pk
    return [
        ("get", reverse("portal:application", args=[pk])),
        ("get", reverse("portal:edit", args=[pk])),
        ("post", reverse("portal:edit", args=[pk])),
        ("post", reverse("portal:submit", args=[pk])),
        ("post", reverse("portal:withdraw", args=[pk])),
        ("post", reverse("portal:completion", args=[pk])),
        ("post", reverse("portal:follow_up", args=[pk])),
        ("get", reverse("document", args=[document.pk])),
    ]


def awaiting_attestation(anna, olle, fisksatra, call):
    application = apply.application_submit(application=make_draft(call, fisksatra, anna), by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=application.requested_amount,
        justification="Bra projekt.",
    )
    decide.decision_make(
        application=application,
        by=olle,
        outcome="approved",
        amount=application.requested_amount,
        reasons="Bra projekt.",
    )
    return Application.objects.get(pk=application.pk)


# --- the portal ------------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_page_and_action_of_someone_elses_case(client, eve, annas_draft, annas_document):
    client.force_login(eve)
    events = CaseEvent.objects.count()
    for method, url in case_urls(annas_draft, annas_document):
        data = {"answer": "x", "what_was_done": "x", "outcome": "x", "participants": "1", "actual_costs": "1"}
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code == 404, (method, url, response.status_code)
    annas_draft.refresh_from_db()
    assert annas_draft.status == "draft" and annas_draft.title == "Fisksätras läxhjälp"
    assert CaseEvent.objects.count() == events


def test_an_outsider_with_an_organisation_of_her_own_still_gets_404(client, eve, annas_draft, annas_document):
    factories.association(name="Eves förening", org_number="556677889" + calc_check_digit("556677889"), members=[eve])
    client.force_login(eve)
    assert client.get(reverse("portal:application", args=[annas_draft.pk])).status_code == 404
    assert client.get(reverse("document", args=[annas_document.pk])).status_code == 404
    assert "Fisksätras läxhjälp" not in client.get(reverse("portal:index")).content.decode()


def test_an_applicant_cannot_apply_in_the_name_of_another_organisation(client, eve, fisksatra, inclusion_call):
    factories.association(name="Eves förening", org_number="556677889" + calc_check_digit("556677889"), members=[eve])
    client.force_login(eve)
    response = draft(client, inclusion_call, organisation=fisksatra)
    assert response.status_code == 200
    assert "Välj ett giltigt alternativ" in response.content.decode()
    assert not Application.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client, annas_draft, annas_document, inclusion_call):
    urls = case_urls(annas_draft, annas_document) + [
        ("get", reverse("portal:index")),
        ("get", reverse("portal:apply", args=[inclusion_call.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login") + "?next="), (method, url)


def test_the_owner_may_see_her_case_and_download_her_file(client, anna, annas_draft, annas_document, pdf_bytes):
    client.force_login(anna)
    assert client.get(reverse("portal:application", args=[annas_draft.pk])).status_code == 200
    response = client.get(reverse("document", args=[annas_document.pk]))
    assert response.status_code == 200 and response.content == pdf_bytes
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_tampered_file_is_not_served(client, anna, annas_document):
    with open(default_storage.path(annas_document.storage_key), "wb") as handle:
        handle.write(b"%PDF-1.4\nsomething else\n%%EOF\n")
    client.force_login(anna)
    response = client.get(reverse("document", args=[annas_document.pk]))
    assert response.status_code == 409
    assert "Filen stämmer inte med sin kontrollsumma och lämnas inte ut." in response.content.decode()
    assert "something else" not in response.content.decode()


# --- the staff interface ---------------------------------------------------------------


def test_applicants_have_no_viewflow_or_staff_permissions(anna, olle, fisksatra, inclusion_call):
    assert anna.get_all_permissions() == set()
    awaiting_attestation(anna, olle, fisksatra, inclusion_call)
    anna.refresh_from_db()
    assert anna.get_all_permissions() == set()
    assert not anna.is_staff and not anna.is_superuser


def test_an_applicant_sees_no_staff_queue_and_cannot_claim_or_work_tasks(client, anna, olle, fisksatra, inclusion_call):
    application = awaiting_attestation(anna, olle, fisksatra, inclusion_call)
    task = open_task(application, "await_payment")
    client.force_login(anna)
    for url in (
        "/staff/cases/grant/queue/",
        "/staff/cases/grant/inbox/",
        "/staff/cases/grant/",
        f"{BASE}/{task.process_id}/",
        reverse("finance:payments"),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert application.case_number not in response.content.decode()
    for url in (
        f"{BASE}/{task.process_id}/await_payment/{task.pk}/assign/",
        f"{BASE}/{task.process_id}/await_payment/{task.pk}/execute/",
    ):
        assert client.post(url).status_code in (302, 403, 404), url
    payment = application.payments.get(sequence=1)
    assert client.post(reverse("finance:payments"), {"action": "attest", "payments": [payment.pk]}).status_code in (
        302,
        403,
    )
    task.refresh_from_db()
    assert (task.owner_id, task.status) == (None, "NEW")
    assert application.payments.get(sequence=1).status == "planned"


def test_anonymous_visitors_cannot_reach_staff_or_finance_pages(client, anna, olle, fisksatra, inclusion_call):
    application = awaiting_attestation(anna, olle, fisksatra, inclusion_call)
    task = open_task(application, "await_payment")
    for url in ("/staff/cases/grant/queue/", f"{BASE}/{task.process_id}/", reverse("finance:payments")):
        response = client.get(url)
        assert response.status_code == 403 or reverse("login") in response.get("Location", ""), url


def test_an_officer_cannot_attest_a_payment(client, anna, olle, otto, fisksatra, inclusion_call):
    application = awaiting_attestation(anna, olle, fisksatra, inclusion_call)
    payment = application.payments.get(sequence=1)
    for officer in (olle, otto):  # the one who decided, and one who did not
        client.force_login(officer)
        assert client.get(reverse("finance:payments")).status_code == 403
        assert (
            client.post(reverse("finance:payments"), {"action": "attest", "payments": [payment.pk]}).status_code == 403
        )
        with pytest.raises(PermissionDenied):
            pay.payments_attest(payment_ids=[payment.pk], by=officer)
    assert application.payments.get(sequence=1).status == "planned"


def test_finance_sees_the_payment_in_its_list(client, anna, olle, fia, fisksatra, inclusion_call):
    application = awaiting_attestation(anna, olle, fisksatra, inclusion_call)
    client.force_login(fia)
    response = client.get(reverse("finance:payments"))
    assert response.status_code == 200 and application.case_number in response.content.decode()


def test_a_decision_maker_cannot_take_an_officers_completeness_check(client, anna, kim, fisksatra, inclusion_call):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    task = open_task(application, "check_completeness")
    client.force_login(kim)
    assert client.post(f"{BASE}/{task.process_id}/check_completeness/{task.pk}/assign/").status_code == 403
    application.refresh_from_db()
    assert application.status == "submitted"


def test_staff_may_download_any_cases_file_but_applicants_only_their_own(client, olle, eve, annas_document):
    client.force_login(olle)
    assert client.get(reverse("document", args=[annas_document.pk])).status_code == 200
    client.force_login(eve)
    assert client.get(reverse("document", args=[annas_document.pk])).status_code == 404
    assert Document.objects.count() == 1
