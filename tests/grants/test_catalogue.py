"""The public catalogue, the programme page, the eligibility check and the accessibility
statement: no login, plain Swedish, nothing a visitor cannot act on."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

QUESTION = {
    "question": "Bedriver ni verksamhet i kommunen?",
    "answer": "ja",
    "otherwise": "Bidraget går bara till verksamhet i kommunen.",
}


@pytest.fixture
def programmes(db):
    inclusion = factories.programme(
        "inkludering",
        purpose="Fler barn och unga ska kunna delta i föreningslivet.",
        what_to_attach="Stadgar\nSenaste årsmötesprotokoll",
        priority_areas=["Barn och unga"],
    )
    activity = factories.programme(
        "verksamhet", who_may_apply="associations", min_members=10, eligibility_questions=[QUESTION]
    )
    association = factories.programme("forening", who_may_apply="associations")
    factories.call(inclusion)
    closed = factories.call(activity, open_=False)
    today = timezone.localdate()
    factories.call(association).delete()
    association.calls.create(
        title="Höstens omgång",
        year=today.year,
        opens_on=today + dt.timedelta(days=10),
        closes_on=today + dt.timedelta(days=40),
        max_amount=50000,
        budget=100000,
    )
    return inclusion, activity, association, closed


def test_catalogue_lists_every_active_programme_with_its_call_status(client, programmes):
    inclusion, activity, association, _ = programmes
    page = client.get(reverse("catalogue:list")).content.decode()
    assert "Projektbidrag för inkludering" in page and "Verksamhetsbidrag" in page
    assert "Öppen för ansökningar till och med" in page  # inclusion
    assert "Öppnar för ansökningar" in page  # the association grant's coming call
    assert "Ingen öppen ansökningsomgång just nu" in page  # the activity grant's call has closed


def test_catalogue_search_and_filters(client, programmes):
    url = reverse("catalogue:list")
    page = client.get(url, {"q": "delta i föreningslivet"}).content.decode()
    assert "Projektbidrag för inkludering" in page and "Verksamhetsbidrag" not in page
    page = client.get(url, {"open_only": "on"}).content.decode()
    assert "Projektbidrag för inkludering" in page and "Föreningsbidrag" not in page
    page = client.get(url, {"groups_only": "on"}).content.decode()
    assert "Projektbidrag för inkludering" in page and "Verksamhetsbidrag" not in page
    page = client.get(url, {"q": "finns inte alls"}).content.decode()
    assert "Inga bidrag matchar sökningen" in page


def test_catalogue_costs_the_same_queries_for_more_programmes(client, programmes):
    url = reverse("catalogue:list")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    other = factories.committee("SOC", "Socialnämnden")
    for index in range(6):
        programme = programmes[0]
        programme.pk, programme.slug, programme.committee = None, f"extra-{index}", other
        programme.save()
        factories.call(programme)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_programme_page_says_what_a_visitor_needs(client, programmes):
    inclusion = programmes[0]
    page = client.get(reverse("catalogue:programme", args=[inclusion.slug])).content.decode()
    for text in [
        "Fler barn och unga ska kunna delta",
        "Stadgar",
        "Senaste årsmötesprotokoll",
        "Barn och unga",
        "medsökare",
        "50\xa0000 kr beslutar förvaltningen",
        "85 % efter beslut",
        "15 % efter godkänd återrapport",
        "Testa om ni kan söka",
        "öppen för ansökningar till och med",
    ]:
        assert text in page, text


def test_unknown_or_inactive_programme_is_404(client, programmes):
    assert client.get(reverse("catalogue:programme", args=["finns-inte"])).status_code == 404
    activity = programmes[1]
    activity.is_active = False
    activity.save()
    assert client.get(reverse("catalogue:programme", args=[activity.slug])).status_code == 404


def check(client, programme, **answers):
    return client.get(reverse("catalogue:eligibility", args=[programme.slug]), {"check": "1", **answers})


def test_registered_association_may_apply(client, programmes):
    response = check(client, programmes[0], registered="ja")
    assert response.status_code == 200
    assert "Ja, ni kan söka" in response.content.decode()


def test_informal_group_is_told_to_apply_with_a_sponsor(client, programmes):
    page = check(client, programmes[0], registered="nej").content.decode()
    assert "Ja, tillsammans med en medsökande förening" in page
    assert "bekräftar ansökan i portalen" in page and "föreningens konto" in page


def test_informal_group_cannot_apply_where_only_associations_may(client, programmes):
    page = check(client, programmes[1], registered="nej", members="", question_0="ja").content.decode()
    assert "Nej, inte som det ser ut nu" in page
    assert "bara sökas av registrerade föreningar" in page


def test_too_few_members_and_a_failed_question_give_both_reasons(client, programmes):
    page = check(client, programmes[1], registered="ja", members="4", question_0="nej").content.decode()
    assert "minst 10 medlemmar" in page and QUESTION["otherwise"] in page
    page = check(client, programmes[1], registered="ja", members="12", question_0="ja").content.decode()
    assert "Ja, ni kan söka" in page


def test_unanswered_check_shows_swedish_errors_at_the_fields(client, programmes):
    response = check(client, programmes[1], registered="ja")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Något behöver rättas" in page
    assert "Ange hur många medlemmar föreningen har." in page
    assert "Detta fält måste fyllas i." in page


def test_accessibility_statement_and_barrier_report(client):
    url = reverse("accessibility")
    page = client.get(url).content.decode()
    assert "Tillgänglighetsredogörelse" in page and "WCAG 2.1" in page and "Digg" in page
    response = client.post(url, {"page": "Ansökan", "description": "", "email": "inte-en-adress"})
    assert response.status_code == 400 and not mail.outbox
    response = client.post(
        url, {"page": "Ansökan, steg 2", "description": "Knappen går inte att nå med tab.", "email": "anna@example.se"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "Knappen går inte att nå med tab." in mail.outbox[0].body


def test_start_page_leads_each_person_to_their_place(client):
    assert client.get("/")["Location"] == reverse("catalogue:list")
    factories.user("lena", role="Ledning")
    client.login(username="lena", password="demo")
    assert client.get("/")["Location"] == reverse("reports:annual")
    factories.user("anna")
    client.login(username="anna", password="demo")
    assert client.get("/")["Location"] == reverse("portal:index")


def test_the_catalogue_is_served_from_the_cache_and_a_change_shows_at_once(client, programmes):
    inclusion, activity, _, _ = programmes
    url = reverse("catalogue:list")
    client.get(url)
    client.get(reverse("catalogue:programme", args=[inclusion.slug]))
    with CaptureQueriesContext(connection) as warm:
        page = client.get(url).content.decode()
        client.get(reverse("catalogue:programme", args=[inclusion.slug]))
    assert len(warm) == 0, [q["sql"] for q in warm]
    assert "Projektbidrag för inkludering" in page

    # An administrator renames a programme, adds a call, renames a committee: seen at once.
    inclusion.name = "Projektbidrag för alla"
    inclusion.save()
    assert "Projektbidrag för alla" in client.get(url).content.decode()
    assert (
        "Projektbidrag för alla" in client.get(reverse("catalogue:programme", args=[inclusion.slug])).content.decode()
    )
    activity.committee.name = "Fritidsnämnden"
    activity.committee.save()
    assert "Fritidsnämnden" in client.get(url).content.decode()
    factories.call(activity)
    assert "Ingen öppen ansökningsomgång just nu" not in client.get(url).content.decode()
    activity.is_active = False
    activity.save()
    assert "Verksamhetsbidrag" not in client.get(url).content.decode()
    # A programme that does not exist is a 404, from the cache too.
    assert client.get(reverse("catalogue:programme", args=["finns-inte"])).status_code == 404
    assert client.get(reverse("catalogue:programme", args=["finns-inte"])).status_code == 404


def test_the_cached_catalogue_keeps_each_visitors_own_csrf_token(client, programmes):
    other = type(client)()
    first, second = client.get(reverse("catalogue:list")), other.get(reverse("catalogue:list"))
    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert token.search(first.content.decode()) and token.search(second.content.decode())
    assert token.search(first.content.decode()).group(1) != token.search(second.content.decode()).group(1)
