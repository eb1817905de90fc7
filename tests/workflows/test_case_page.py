"""The case page (/staff/cases/grant/<process>/), the few clicks from the queue to a
decision, jäv and the letter preview, over HTTP as Olle uses them (issue 15)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grants.models import Application, ConflictOfInterest, Decision, Document
from grants.services import apply
from workflows.flows import GrantFlow

from .. import factories
from ..grants.test_budgets import assessed
from ..staff import BASE, claim, open_task, read_pdf_text, task_page, work

pytestmark = pytest.mark.django_db


def submitted(call, organisation, applicant, *, amount="45000", title="Läxhjälp"):
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=applicant,
        title=title,
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal(amount),
        budget_lines=[("cost", "Ledararvoden", Decimal(amount) + 10000)],
    )
    return apply.application_submit(application=draft, by=applicant)


def case_url(application):
    return f"{BASE}/{application.process.pk}/"


def text(response):
    return response.content.decode().replace("\xa0", " ")


# --- the case page ------------------------------------------------------------------------


def test_the_case_page_shows_the_case_with_names_and_amounts_in_swedish(
    client, anna, olle, otto, fisksatra, inclusion_call
):
    olle.last_name = "Handläggare"
    olle.save()
    application = assessed(inclusion_call, fisksatra, anna, olle, amount="45000", title="Läxhjälp")
    client.force_login(otto)
    response = client.get(case_url(application))
    assert response.status_code == 200
    page = text(response)
    assert f"Ärende {application.case_number}" in page
    assert "Fisksätra IF, 802412-1231" in page
    assert "Sökt belopp" in page and "Föreslaget belopp" in page and "Beviljat belopp" in page
    assert "45 000 kr" in page
    assert not re.search(r"\d\.00\b", page), "an amount written as 45000.00"
    assert "Olle Handläggare" in page  # the history and the assessment name people
    assert ">olle<" not in page
    assert "Besluta på delegation" in page and "hos Olle Handläggare" in page


def test_an_unassigned_task_is_taken_and_opened_with_one_post(client, anna, olle, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    client.force_login(olle)
    page = text(client.get(case_url(application)))
    task = open_task(application, "check_completeness")
    take = f"{BASE}/{task.process_id}/check_completeness/{task.pk}/take/"
    assert "Ta och öppna" in page and take in page
    assert client.get(take).status_code == 405  # a link cannot take a task
    response = client.post(take)
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/{task.process_id}/check_completeness/{task.pk}/execute/"
    task.refresh_from_db()
    assert task.owner == olle
    assert "Öppna uppgiften" in text(client.get(case_url(application)))


def test_a_task_taken_by_someone_else_cannot_be_taken(client, anna, olle, otto, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    client.force_login(otto)
    assert claim(client, application, "check_completeness").status_code == 302
    client.force_login(olle)
    task = open_task(application, "check_completeness")
    assert "Ta och öppna" not in text(client.get(case_url(application)))
    assert client.post(f"{BASE}/{task.process_id}/check_completeness/{task.pk}/take/").status_code == 403
    task.refresh_from_db()
    assert task.owner == otto


def test_the_queue_offers_to_take_and_open_each_case(client, anna, olle, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    task = open_task(application, "check_completeness")
    client.force_login(olle)
    page = text(client.get(f"{BASE}/queue/"))
    assert f'action="{BASE}/{task.process_id}/check_completeness/{task.pk}/take/"' in page


def test_after_each_task_the_officer_lands_on_the_next_one_until_the_decision(
    client, anna, olle, fisksatra, inclusion_call
):
    application = submitted(inclusion_call, fisksatra, anna, amount="20000")
    client.force_login(olle)
    task = open_task(application, "check_completeness")
    response = client.post(f"{BASE}/{task.process_id}/check_completeness/{task.pk}/take/")
    response = client.post(response["Location"], {"result": "complete"})
    assess_task = open_task(application, "assess")
    assert response["Location"] == f"{BASE}/{task.process_id}/assess/{assess_task.pk}/execute/"
    assess_task.refresh_from_db()
    assert assess_task.owner == olle  # taken for him on the way
    response = client.post(
        response["Location"],
        {"conflict": "none", "proposal": "approved", "proposed_amount": "20000", "justification": "Bra."},
    )
    decide_task = open_task(application, "decide_by_officer")
    assert response["Location"] == f"{BASE}/{task.process_id}/decide_by_officer/{decide_task.pk}/execute/"
    response = client.post(response["Location"], {"outcome": "approved", "amount": "20000", "reasons": "Bra."})
    assert response.status_code == 302
    assert response["Location"] in ("/staff/arenden/", "/staff/cases/grant/queue/")
    assert Decision.objects.get(application=application).amount == Decimal("20000")
    # The confirmation waits on the page he lands on.
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Beslutet är fattat" in m for m in messages)


def test_a_committee_case_goes_back_to_the_list_after_the_assessment(client, anna, olle, fisksatra, inclusion_call):
    limit = inclusion_call.programme.delegation_limit
    application = submitted(inclusion_call, fisksatra, anna, amount=str(limit + 1000))
    client.force_login(olle)
    work(client, application, "check_completeness", {"result": "complete"})
    response = work(
        client,
        application,
        "assess",
        {"conflict": "none", "proposal": "approved", "proposed_amount": str(limit + 1000), "justification": "Bra."},
    )
    assert response["Location"] in ("/staff/arenden/", "/staff/cases/grant/queue/")


# --- the organisation's other applications: a summary, at a fixed cost -----------------------


def _other_applications(application, count, call):
    """`count` submitted applications of the same organisation in the same year, written
    straight to the table (the page only reads them)."""
    rows = [
        Application(
            call=call,
            organisation=application.organisation,
            created_by=application.created_by,
            title=f"Annan ansökan {index}",
            description="Annat.",
            period_start=application.period_start,
            period_end=application.period_end,
            requested_amount=Decimal("1000"),
        )
        for index in range(count)
    ]
    made = Application.objects.bulk_create(rows)
    for row in made:
        Application.objects.filter(pk=row.pk).update(status="submitted", case_number=f"ÖVR {call.year}/{row.pk}")
    return made


def _queries(client, url):
    cache.clear()  # the menu's badge counts are cached briefly: measure the page that counts them
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), text(response)


def test_the_other_applications_are_summed_per_committee_at_the_same_cost_for_2_and_200(
    client, anna, olle, fisksatra, inclusion_call
):
    social = factories.committee("SN", "Socialnämnden")
    activity_call = factories.call(factories.programme("verksamhet", committee_=social))
    application = submitted(inclusion_call, fisksatra, anna)
    task = open_task(application, "check_completeness")
    client.force_login(olle)
    claim(client, application, "check_completeness")
    _other_applications(application, 1, inclusion_call)
    _other_applications(application, 1, activity_call)
    case_small, page = _queries(client, case_url(application))
    task_url = f"{BASE}/{task.process_id}/check_completeness/{task.pk}/execute/"
    task_small, _ = _queries(client, task_url)
    assert "Annan ansökan" not in page  # summed, not listed
    assert f"?organisation={fisksatra.pk}&amp;year={inclusion_call.year}" in page
    _other_applications(application, 99, inclusion_call)
    _other_applications(application, 99, activity_call)
    case_large, page = _queries(client, case_url(application))
    task_large, task_page_text = _queries(client, task_url)
    assert "Annan ansökan" not in page
    assert "100 000 kr" in page  # 100 applications of 1 000 kr in each committee
    assert "200 000 kr" in page.split("Totalt", 1)[1]
    print(f"case page {case_small}/{case_large} queries, task page {task_small}/{task_large}")
    assert case_large == case_small <= 25
    assert task_large == task_small <= 25


# --- jäv -------------------------------------------------------------------------------------


def test_the_jav_question_has_no_answer_chosen_and_must_be_answered(client, anna, olle, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    client.force_login(olle)
    work(client, application, "check_completeness", {"result": "complete"})  # takes the assessment for him
    page = task_page(client, application, "assess").content.decode()
    assert 'name="conflict"' in page
    assert not re.search(r'name="conflict"[^>]*checked', page)
    response = work(
        client,
        application,
        "assess",
        {"proposal": "approved", "proposed_amount": "45000", "justification": "Bra."},
        expect_done=False,
    )
    assert response.status_code == 200
    assert "Välj om du är jävig." in response.content.decode()
    assert open_task(application, "assess") is not None


def _declare_jav(client, application, officer):
    client.force_login(officer)
    work(client, application, "check_completeness", {"result": "complete"})
    work(client, application, "assess", {"conflict": "conflict", "conflict_reason": "Min bror är ordförande."})
    assert ConflictOfInterest.objects.filter(application=application, user=officer).exists()


def test_after_declaring_jav_the_officer_sees_only_case_number_and_status(
    client, anna, olle, otto, fisksatra, inclusion_call, pdf_bytes
):
    application = submitted(inclusion_call, fisksatra, anna)
    _declare_jav(client, application, olle)
    page = text(client.get(case_url(application)))
    assert application.case_number in page and "Under bedömning" in page
    assert "bara diarienummer och status" in page
    for detail in ("Läxhjälp för barn", "Fisksätra IF", "45 000 kr", "Ledararvoden", "Händelser", "Ta och öppna"):
        assert detail not in page, detail
    # Another officer still reads it all.
    client.force_login(otto)
    page = text(client.get(case_url(application)))
    assert "Läxhjälp för barn" in page and "Ta och öppna" in page


def test_after_declaring_jav_the_cases_documents_are_refused(client, anna, olle, otto, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    document = Document.objects.get(application=application, kind=Document.Kind.RECEIPT)
    url = reverse("document", args=[document.pk])
    client.force_login(olle)
    assert client.get(url).status_code == 200
    _declare_jav(client, application, olle)
    response = client.get(url)
    assert response.status_code == 403
    assert "jäv" in response.content.decode()
    client.force_login(otto)
    assert client.get(url).status_code == 200


def test_after_declaring_jav_task_pages_show_no_details(client, anna, olle, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    _declare_jav(client, application, olle)
    task = open_task(application, "assess")
    for suffix in ("execute/", "assign/", "take/"):
        url = f"{BASE}/{task.process_id}/assess/{task.pk}/{suffix}"
        response = client.post(url) if suffix == "take/" else client.get(url)
        assert response.status_code == 403, (suffix, response.status_code)
    response = client.get(f"{BASE}/{task.process_id}/assess/{task.pk}/detail/")
    page = text(response)
    assert "Läxhjälp för barn" not in page and "Ledararvoden" not in page


# --- the letter preview -----------------------------------------------------------------------


def _submit_as_the_page_would(client, page, url, data):
    """Post the decide form with its preview button as the staff pages' script (Turbo) would:
    Turbo takes over a form post unless the button opts out with data-turbo="false"."""
    button = re.search(r"<button[^>]*name=\"preview\"[^>]*>", page)
    assert button, "no preview button"
    headers = {} if 'data-turbo="false"' in button.group(0) else {"HTTP_X_REQUEST_FRAMEWORK": "Turbo"}
    return client.post(url, {**data, "preview": "1"}, **headers)


def test_the_letter_preview_opens_the_pdf_marked_as_a_draft(client, anna, olle, otto, fisksatra, inclusion_call):
    application = assessed(inclusion_call, fisksatra, anna, otto, amount="30000")
    factories.hand_task_to(application, GrantFlow.decide_by_officer, olle)
    client.force_login(olle)
    task = open_task(application, "decide_by_officer")
    url = f"{BASE}/{task.process_id}/decide_by_officer/{task.pk}/execute/"
    page = client.get(url).content.decode()
    assert 'value="30000"' in page and "30000.00" not in page  # the proposed amount, as typed
    response = _submit_as_the_page_would(
        client, page, url, {"outcome": "approved", "amount": "30000", "reasons": "Bra projekt."}
    )
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    letter, reader = read_pdf_text(response.content)
    assert "FÖRHANDSGRANSKNING" in letter
    assert not Decision.objects.filter(application=application).exists()


def test_a_letter_preview_that_cannot_be_made_says_why(client, anna, olle, otto, fisksatra, inclusion_call):
    application = assessed(inclusion_call, fisksatra, anna, otto, amount="30000")
    factories.hand_task_to(application, GrantFlow.decide_by_officer, olle)
    client.force_login(olle)
    task = open_task(application, "decide_by_officer")
    url = f"{BASE}/{task.process_id}/decide_by_officer/{task.pk}/execute/"
    page = client.get(url).content.decode()
    response = _submit_as_the_page_would(
        client, page, url, {"outcome": "approved", "amount": "99999999", "reasons": "Bra projekt."}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "budget" in response.content.decode().lower()


def test_a_paid_case_shows_its_payments_follow_up_and_history_by_name(
    client, anna, olle, otto, fia, fisksatra, inclusion_call
):
    fia.last_name = "Ekonom"
    fia.save()
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia, amount="40000")
    client.force_login(olle)
    response = client.get(case_url(application))
    assert response.status_code == 200
    page = text(response)
    assert "Beviljat belopp" in page and "40 000 kr" in page
    assert "attest Fia Ekonom" in page
    assert "Återrapport senast" in page and application.follow_up.due_on.isoformat() in page
    assert "Ingen uppgift väntar på handläggare" in page
    assert not re.search(r"\d\.00\b", page), "an amount written as 40000.00"
    assert ">fia<" not in page and ">olle<" not in page
