"""The follow-up report over HTTP: Anna sees what she owes, fills in the parts her
programme asks for, saves and comes back, submits; Olle reads the whole report on his
review task and gives his verdict. Nobody else's report is reachable."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from stdnum.luhn import calc_check_digit

from grants.models import Application, CaseEvent, Document, FollowUpReport, RepaymentClaim
from workflows.process import active_task_names

from .. import factories
from ..staff import claim, draft, pdf_upload, task_page, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed(anna, olle, fia, fisksatra, inclusion_call):
    """Project grant (financial statement): budget Ledararvoden 50 000 kr, 34 000 kr paid."""
    return factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)


def owed_with_parts(parts, anna, olle, fia, fisksatra, call):
    call.programme.follow_up_parts = parts
    call.programme.save()
    return factories.report_owed(call, fisksatra, anna, olle, fia)


def url(application):
    return reverse("portal:follow_up", args=[application.pk])


def budget_field(application):
    return f"actual_{application.budget_lines.get(label='Ledararvoden').pk}"


def extra_rows(rows=()):
    data = {
        "extra-TOTAL_FORMS": "3",
        "extra-INITIAL_FORMS": "0",
        "extra-MIN_NUM_FORMS": "0",
        "extra-MAX_NUM_FORMS": "20",
    }
    for index, (label, actual) in enumerate(rows):
        data.update({f"extra-{index}-label": label, f"extra-{index}-actual": actual})
    return data


def complete(application, **overrides):
    data = {
        "what_was_done": "Trettio träffar med läxhjälp och fotboll.",
        "outcome": "Fler flickor deltog än vi hoppats.",
        budget_field(application): "47500",
        "own_contribution": "3000",
        **extra_rows([("Buss till cupen", "1200")]),
        "action": "submit",
    }
    data.update(overrides)
    return data


def page(response):
    # Amounts are grouped with no-break spaces in Swedish: compare them as plain spaces.
    return response.content.decode().replace("\xa0", " ").replace("\u202f", " ")


# --- what Anna owes ------------------------------------------------------------------------


def test_the_index_lists_the_reports_owed_with_due_date_and_lateness(client, anna, owed):
    client.force_login(anna)
    report = FollowUpReport.objects.get(application=owed)
    html = page(client.get(reverse("portal:index")))
    assert "Återrapporter att lämna" in html and owed.case_number in html
    assert report.due_on.strftime("%Y-%m-%d") in html and url(owed) in html
    assert "försenad" not in html

    FollowUpReport.objects.filter(pk=report.pk).update(due_on=dt.date.today() - dt.timedelta(days=3))
    assert "försenad" in page(client.get(reverse("portal:index")))


# --- the form follows the programme ------------------------------------------------------------


def test_a_project_grant_asks_for_a_financial_statement_against_the_budget(client, anna, owed):
    client.force_login(anna)
    html = page(client.get(url(owed)))
    assert "Ekonomisk redovisning" in html and 'scope="row">Ledararvoden</th>' in html
    assert "50 000,00 kr" in html  # the budget, prefilled from the application
    assert f'<label class="skip" for="id_{budget_field(owed)}">Utfall för Ledararvoden (kr)</label>' in html
    assert 'name="own_contribution"' in html and 'name="extra-0-label"' in html
    assert "Läxhjälp för barn." in html  # the application's goals to compare with
    assert "Deltagare per åldersgrupp" not in html and 'name="sessions"' not in html
    assert 'name="action" value="save"' in html and 'name="action" value="submit"' in html
    assert "csrfmiddlewaretoken" in html


def test_an_activity_grant_asks_for_participants_by_age_and_gender(client, anna, olle, fia, fisksatra, inclusion_call):
    application = owed_with_parts(["participants_by_age_gender"], anna, olle, fia, fisksatra, inclusion_call)
    client.force_login(anna)
    html = page(client.get(url(application)))
    assert "Deltagare per åldersgrupp och kön" in html
    assert '<th scope="row">7–12 år</th>' in html and '<th scope="col">Flickor/kvinnor</th>' in html
    assert '<label class="skip" for="id_participants_1_girls">Deltagare 7–12 år, flickor/kvinnor</label>' in html
    assert len(re.findall(r'name="participants_\d_\w+"', html)) == 7 * 3
    assert "Ekonomisk redovisning" not in html and 'name="sessions"' not in html


def test_an_association_grant_asks_for_sessions(client, anna, olle, fia, fisksatra, inclusion_call):
    application = owed_with_parts(["sessions"], anna, olle, fia, fisksatra, inclusion_call)
    client.force_login(anna)
    html = page(client.get(url(application)))
    assert '<label for="id_sessions">Antal sammankomster</label>' in html
    assert "Ekonomisk redovisning" not in html and "Deltagare per åldersgrupp" not in html


# --- save, come back, submit -------------------------------------------------------------------


def test_anna_saves_half_a_report_and_finds_it_again(client, anna, owed):
    client.force_login(anna)
    response = client.post(
        url(owed),
        {
            "what_was_done": "Halva terminen är klar.",
            "outcome": "",
            budget_field(owed): "20000",
            "own_contribution": "",
            **extra_rows([("Buss till cupen", "1200")]),
            "action": "save",
        },
    )
    assert response.status_code == 302 and response["Location"] == url(owed)
    report = FollowUpReport.objects.get(application=owed)
    assert report.status == "due" and report.saved_at is not None
    assert active_task_names(owed) == ["await_report"]

    html = page(client.get(url(owed)))
    assert "inte inskickad" in html
    assert "Halva terminen är klar.</textarea>" in html
    assert f'name="{budget_field(owed)}" value="20 000"' in html
    assert 'name="extra-0-label" value="Buss till cupen"' in html and 'name="extra-0-actual" value="1 200"' in html
    # The index says she has started.
    assert "Påbörjad, inte inskickad" in page(client.get(reverse("portal:index")))


def test_submitting_with_parts_missing_shows_what_is_missing_and_changes_nothing(client, anna, owed):
    client.force_login(anna)
    events = CaseEvent.objects.count()
    response = client.post(url(owed), complete(owed, outcome="", own_contribution="", **{budget_field(owed): ""}))
    assert response.status_code == 400
    html = page(response)
    assert "Återrapporten är inte inskickad" in html
    assert "Ange utfallet för Ledararvoden (0 om inget användes)." in html
    assert f'href="#id_{budget_field(owed)}"' in html
    assert CaseEvent.objects.count() == events
    assert FollowUpReport.objects.get(application=owed).status == "due"

    # The form is fine, the service finds the parts missing: shown at the fields, nothing saved.
    response = client.post(url(owed), complete(owed, outcome="", own_contribution=""))
    assert response.status_code == 400
    html = page(response)
    assert 'href="#id_outcome">Resultat jämfört med målen i ansökan</a>: Beskriv resultatet jämfört med målen' in html
    assert "Ange föreningens egna insats i kronor (0 om ingen)." in html
    report = FollowUpReport.objects.get(application=owed)
    assert report.status == "due" and report.what_was_done == "" and not report.cost_lines.exists()
    assert CaseEvent.objects.count() == events


def test_a_complete_report_with_an_attachment_goes_to_the_officer(client, anna, owed):
    client.force_login(anna)
    response = client.post(url(owed), {**complete(owed), "attachment": pdf_upload("kvitton.pdf")})
    assert response.status_code == 302, page(response)[:3000]
    assert response["Location"] == reverse("portal:application", args=[owed.pk])
    report = FollowUpReport.objects.get(application=owed)
    assert report.status == "submitted" and report.own_contribution == Decimal("3000")
    assert report.actual_costs == Decimal("48700")
    assert [(line.label, line.budgeted, line.actual) for line in report.cost_lines.all()] == [
        ("Ledararvoden", Decimal("50000.00"), Decimal("47500.00")),
        ("Buss till cupen", None, Decimal("1200.00")),
    ]
    assert Document.objects.filter(application=owed, kind=Document.Kind.FOLLOW_UP, filename="kvitton.pdf").exists()
    assert active_task_names(owed) == ["review_report"]

    # Afterwards the page shows the report as sent, with no form, and refuses changes.
    html = page(client.get(url(owed)))
    assert "Inskickad återrapport" in html and "kvitton.pdf" in html and 'name="action"' not in html
    response = client.post(url(owed), complete(owed, outcome="Ändrat."))
    assert response.status_code == 302
    assert FollowUpReport.objects.get(application=owed).outcome == "Fler flickor deltog än vi hoppats."


def test_a_refused_submission_keeps_no_file(client, anna, owed):
    client.force_login(anna)
    response = client.post(url(owed), {**complete(owed, outcome=""), "attachment": pdf_upload("kvitton.pdf")})
    assert response.status_code == 400
    assert "Filen du valde har inte sparats" in page(response)
    assert not Document.objects.filter(kind=Document.Kind.FOLLOW_UP).exists()


def test_participants_are_entered_in_the_table(client, anna, olle, fia, fisksatra, inclusion_call):
    application = owed_with_parts(
        ["participants_by_age_gender", "sessions"], anna, olle, fia, fisksatra, inclusion_call
    )
    client.force_login(anna)
    response = client.post(
        url(application),
        {
            "what_was_done": "Träningar.",
            "outcome": "Bra.",
            "sessions": "40",
            "action": "submit",
            "participants_1_girls": "12",
            "participants_1_boys": "9",
            "participants_2_other": "1",
            "participants_3_girls": "",
        },
    )
    assert response.status_code == 302, page(response)[:3000]
    report = FollowUpReport.objects.get(application=application)
    assert report.participants == 22 and report.sessions == 40
    assert report.participants_by_group["7–12"] == {"girls": 12, "boys": 9, "other": 0}


def test_a_negative_participant_count_is_refused_at_the_cell(client, anna, olle, fia, fisksatra, inclusion_call):
    application = owed_with_parts(["participants_by_age_gender"], anna, olle, fia, fisksatra, inclusion_call)
    client.force_login(anna)
    response = client.post(
        url(application), {"what_was_done": "x", "outcome": "y", "action": "save", "participants_1_girls": "-3"}
    )
    assert response.status_code == 400
    assert 'href="#id_participants_1_girls">Deltagare 7–12 år, flickor/kvinnor</a>' in page(response)


def test_the_officers_completion_note_is_shown_at_the_top(client, anna, olle, owed):
    client.force_login(anna)
    assert client.post(url(owed), complete(owed)).status_code == 302
    client.force_login(olle)
    work(client, owed, "review_report", {"verdict": "completion", "note": "Bifoga kvittona för bussen."})
    client.force_login(anna)
    html = page(client.get(url(owed)))
    assert "Handläggaren ber dig komplettera återrapporten" in html and "Bifoga kvittona för bussen." in html
    assert "Trettio träffar med läxhjälp och fotboll.</textarea>" in html  # what she sent, to change
    response = client.post(url(owed), complete(owed, outcome="Kvittona bifogade."))
    assert response.status_code == 302
    assert FollowUpReport.objects.get(application=owed).status == "submitted"


# --- access --------------------------------------------------------------------------------------


def test_another_associations_member_gets_404(client, eve, owed):
    factories.association(name="Eves förening", org_number="556677889" + calc_check_digit("556677889"), members=[eve])
    client.force_login(eve)
    assert client.get(url(owed)).status_code == 404
    assert client.post(url(owed), complete(owed)).status_code == 404
    assert FollowUpReport.objects.get(application=owed).status == "due"


def test_a_case_without_a_report_has_no_report_page(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    draft(client, inclusion_call, organisation=fisksatra)
    assert client.get(url(Application.objects.get())).status_code == 404


# --- Olle's review -------------------------------------------------------------------------------


def test_olle_reads_the_whole_report_before_his_verdict(client, anna, olle, fia, fisksatra, inclusion_call):
    application = owed_with_parts(
        ["participants_by_age_gender", "sessions", "financial_statement"], anna, olle, fia, fisksatra, inclusion_call
    )
    client.force_login(anna)
    response = client.post(
        url(application),
        {
            **complete(application),
            "sessions": "30",
            "participants_1_girls": "12",
            "participants_2_boys": "4",
            "attachment": pdf_upload("narvaro.pdf"),
        },
    )
    assert response.status_code == 302, page(response)[:3000]

    client.force_login(olle)
    claim(client, application, "review_report")
    html = page(task_page(client, application, "review_report"))
    assert "Trettio träffar med läxhjälp och fotboll." in html and "Fler flickor deltog" in html
    assert '<th scope="row">7–12 år</th>' in html and "<strong>16</strong>" in html  # participants in all
    assert "Antal sammankomster:</strong> 30" in html
    assert "50 000,00 kr" in html and "47 500,00 kr" in html and "-2 500,00 kr" in html  # budget, outcome, difference
    assert "ej budgeterad" in html and "48 700,00 kr" in html  # the unbudgeted bus, the total outcome
    assert "Egen insats:</strong> 3 000,00 kr" in html
    document = Document.objects.get(kind=Document.Kind.FOLLOW_UP)
    assert reverse("document", args=[document.pk]) in html
    assert "Högst det som har betalats ut, 34 000,00 kr." in html

    # A claim above what was paid is refused at the field; a rejection with reasons decides it.
    response = work(
        client,
        application,
        "review_report",
        {"verdict": "reject", "note": "Fel.", "reclaim_amount": "50000"},
        expect_done=False,
    )
    assert response.status_code == 200 and "högst det som har betalats ut" in page(response)
    work(
        client,
        application,
        "review_report",
        {"verdict": "reject", "note": "Bussen fanns inte i budgeten.", "reclaim_amount": "1200"},
    )
    assert RepaymentClaim.objects.get(application=application).amount == Decimal("1200.00")


# --- the application form: the programme's lists ---------------------------------------------------


def test_an_application_chooses_priority_area_and_target_group_when_the_programme_lists_them(
    client, anna, fisksatra, inclusion_call
):
    programme = inclusion_call.programme
    programme.priority_areas = ["Barn och unga", "Jämställdhet"]
    programme.target_groups = ["Barn 7–12 år", "Unga 13–25 år"]
    programme.save()
    client.force_login(anna)
    html = page(client.get(reverse("portal:apply", args=[inclusion_call.pk])))
    assert '<label for="id_priority_area">Prioriterat område</label>' in html and "Jämställdhet" in html
    assert '<label for="id_target_group">Målgrupp</label>' in html

    response = draft(client, inclusion_call, organisation=fisksatra)
    assert response.status_code == 200
    assert "Välj prioriterat område." in page(response) and "Välj målgrupp." in page(response)
    assert not Application.objects.exists()

    response = client.post(
        reverse("portal:apply", args=[inclusion_call.pk]),
        {**_draft_data(fisksatra), "priority_area": "Jämställdhet", "target_group": "Barn 7–12 år"},
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert (application.priority_area, application.target_group) == ("Jämställdhet", "Barn 7–12 år")
    html = page(client.get(reverse("portal:edit", args=[application.pk]), follow=True))
    assert '<option value="Jämställdhet" selected>' in html


def test_without_lists_the_application_asks_for_neither(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    html = page(client.get(reverse("portal:apply", args=[inclusion_call.pk])))
    assert "priority_area" not in html and "target_group" not in html


def _draft_data(organisation):
    return {
        "organisation": organisation.pk,
        "title": "Läxhjälp",
        "description": "Läxhjälp för barn.",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "requested_amount": "10000",
        "budget-TOTAL_FORMS": "1",
        "budget-INITIAL_FORMS": "0",
        "budget-MIN_NUM_FORMS": "0",
        "budget-MAX_NUM_FORMS": "30",
        "budget-0-kind": "cost",
        "budget-0-label": "Ledare",
        "budget-0-amount": "12000",
    }
