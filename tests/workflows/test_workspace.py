"""The officer's work list at /staff/arenden/: what it shows whom, search, filters, sorting,
exports, and a fixed query cost whatever the number of cases."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from grants.models import ConflictOfInterest
from grants.services import apply
from tests import factories
from tests.staff import claim

pytestmark = pytest.mark.django_db

URL = "/staff/arenden/"


def submitted(call, organisation, by, *, title="Läxhjälp i Fisksätra", amount=1000):
    application = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=by,
        title=title,
        description="Aktiviteter.",
        period_start="2026-01-01",
        period_end="2026-12-31",
        stated_amount=amount,
        budget_lines=[("cost", "Material", max(5000, amount))],
    )
    return apply.application_submit(application=application, by=by)


def shown(page, application):
    """Whether the case is a row of the list (its case page linked), not just typed in the search box."""
    return f'href="/staff/cases/grant/{application.process.pk}/"' in page


def listed(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def world(anna, fisksatra, inclusion_call):
    """Two associations' cases in the culture committee and one in the social committee."""
    saltsjo = factories.association(name="Saltsjöbadens Schackklubb", org_number="802420-1231", members=[anna])
    social = factories.call(
        factories.programme("verksamhet", committee_=factories.committee(code="SN", name="Socialnämnden"))
    )
    return {
        "homework": submitted(inclusion_call, fisksatra, anna, title="Läxhjälp för barn", amount=45000),
        "chess": submitted(inclusion_call, saltsjo, anna, title="Schackturnering i hamnen", amount=12000),
        "social": submitted(social, fisksatra, anna, title="Nattvandring i centrum", amount=30000),
    }


def test_olle_lands_on_his_work_after_sign_in(client, olle):
    client.force_login(olle)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("workspace:list")


def test_finance_keeps_its_landing(client, fia):
    client.force_login(fia)
    assert client.get(reverse("home"))["Location"] == reverse("finance:payments")
    assert client.get(URL).status_code == 403


def test_mitt_arbete_lists_cases_waiting_with_case_number_amount_and_task(client, olle, world):
    client.force_login(olle)
    page = listed(client)
    homework = world["homework"]
    assert shown(page, homework) and "Fisksätra IF" in page
    assert "45\u00a0000\u00a0kr" in page
    assert "Inkommen" in page
    assert "Kontrollera att ansökan är komplett" in page  # the task waiting in the case
    assert f"/staff/cases/grant/{homework.process.pk}/" in page


def test_out_of_scope_committee_is_not_listed(client, world):
    culture_only = factories.user("olga", role="Handläggare", committees=[factories.committee()])
    client.force_login(culture_only)
    for view in ("mitt", "alla"):
        page = listed(client, view=view)
        assert shown(page, world["homework"])
        assert not shown(page, world["social"])
    assert not shown(listed(client, q=world["social"].case_number), world["social"])


def test_staff_without_committees_see_no_case_and_are_told_why(client, world):
    newcomer = factories.user("nils", role="Handläggare", committees=[])
    client.force_login(newcomer)
    page = listed(client, view="alla")
    assert not any(shown(page, case) for case in world.values())
    assert "Du arbetar inte för någon nämnd än" in page


def test_a_free_task_is_taken_and_opened_in_one_post_and_his_own_opens_directly(client, olle, world):
    homework = world["homework"]
    client.force_login(olle)
    page = listed(client)
    task = homework.process.task_set.get(flow_task_type="HUMAN")
    take = f"/staff/cases/grant/{task.process_id}/check_completeness/{task.pk}/take/"
    assert f'action="{take}"' in page and "Ta och öppna" in page
    response = client.post(take)
    assert response.status_code == 302 and response["Location"].endswith(f"/{task.pk}/execute/")
    page = listed(client)
    assert f'href="/staff/cases/grant/{task.process_id}/check_completeness/{task.pk}/execute/"' in page
    assert "Du arbetar inte för någon nämnd än" not in page


def test_a_case_with_declared_jav_is_not_in_mitt_arbete(client, olle, world):
    ConflictOfInterest.objects.create(application=world["chess"], user=olle, reason="Styrelseledamot")
    client.force_login(olle)
    page = listed(client)
    assert not shown(page, world["chess"])
    assert shown(page, world["homework"])


def test_an_assigned_task_is_in_his_list_and_not_in_anothers(client, olle, otto, world):
    client.force_login(olle)
    assert claim(client, world["homework"], "check_completeness").status_code == 302
    client.force_login(otto)
    page = listed(client)
    assert not shown(page, world["homework"]) and shown(page, world["chess"])
    assert shown(listed(client, view="alla"), world["homework"])


@pytest.mark.parametrize(
    "query",
    ["case_number", "prefix", "short", "Saltsjöbadens", "schackklubb", "802420-1231", "8024201231", "Schackturnering"],
)
def test_search_finds_the_case(client, olle, world, query):
    chess = world["chess"]
    q = {"case_number": chess.case_number, "prefix": chess.case_number.rsplit("/", 1)[0], "short": "kfn 2026/2"}.get(
        query, query
    )
    client.force_login(olle)
    page = listed(client, q=q)
    assert shown(page, chess)
    if query not in ("prefix",):
        assert not shown(page, world["homework"])


def test_search_by_title_word_stems_on_postgresql(client, olle, world):
    if connection.vendor != "postgresql":
        pytest.skip("Swedish stemming is PostgreSQL's full-text search")
    client.force_login(olle)
    page = listed(client, q="hamnar")  # "i hamnen": the word in another form
    assert shown(page, world["chess"])


def test_filters(client, olle, world):
    client.force_login(olle)
    social = world["social"]
    page = listed(client, committee=social.call.programme.committee_id, view="alla")
    assert shown(page, social) and not shown(page, world["homework"])
    page = listed(client, organisation=world["chess"].organisation_id)
    assert shown(page, world["chess"]) and not shown(page, world["homework"])
    assert "Saltsjöbadens Schackklubb" in page
    page = listed(client, status="approved", view="alla")
    assert not shown(page, world["homework"])
    page = listed(client, programme=social.call.programme_id, view="alla")
    assert shown(page, social) and not shown(page, world["chess"])
    page = listed(client, year=social.call.year + 1, view="alla")
    assert not shown(page, social)


def test_officer_filter(client, olle, world):
    client.force_login(olle)
    claim(client, world["chess"], "check_completeness")
    page = listed(client, officer=olle.pk, view="alla")
    assert shown(page, world["chess"]) and not shown(page, world["homework"])


def by_amount(world):
    return sorted((a for a in world.values()), key=lambda a: a.requested_amount)


def test_sorting_by_amount_and_applicant(client, olle, world):
    client.force_login(olle)
    numbers = [a.case_number for a in by_amount(world)]
    page = listed(client, sort="belopp", view="alla")
    assert [page.index(n) for n in numbers] == sorted(page.index(n) for n in numbers)
    page = listed(client, sort="belopp", order="desc", view="alla")
    assert [page.index(n) for n in reversed(numbers)] == sorted(page.index(n) for n in numbers)
    page = listed(client, sort="sokande", view="alla")
    assert page.index(world["homework"].case_number) < page.index(world["chess"].case_number)


def test_exports_have_the_same_rows_in_csv_and_excel(client, olle, world):
    client.force_login(olle)
    response = client.get(URL, {"view": "alla", "sort": "belopp", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][0] == "Diarienummer"
    body = table[1:]
    ordered = by_amount(world)
    assert [r[0] for r in body] == [a.case_number for a in ordered]
    assert body[-1][7] == "45000,00"
    assert [Decimal(r[7].replace(",", ".")) for r in body] == [a.requested_amount for a in ordered]

    response = client.get(URL, {"view": "alla", "sort": "belopp", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == "Diarienummer"
    assert [r[0] for r in cells[1:]] == [r[0] for r in body]
    assert [r[7] for r in cells[1:]] == [float(a.requested_amount) for a in ordered]


def test_pagination_without_count(client, olle, anna, fisksatra, inclusion_call, monkeypatch):
    from workflows import workspace

    monkeypatch.setattr(workspace, "PAGE_SIZE", 2)
    for index in range(3):
        submitted(inclusion_call, fisksatra, anna, title=f"Ansökan {index}")
    client.force_login(olle)
    page = listed(client)
    assert "Nästa sida" in page and "sida=2" in page
    page = listed(client, sida=2)
    assert "Nästa sida" not in page and "Föregående sida" in page


def _queries(client, url):
    cache.clear()  # the menu badges are counted, not read from the cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code in (200, 302), response.status_code
    return len(captured)


PAGES = [
    URL,
    URL + "?q=Fisks%C3%A4tra",
    URL + "?q=KFN",
    URL + "?view=alla&sort=frist",
    URL + "?format=csv&view=alla",
    URL + "?format=xlsx",
    "/staff/cases/grant/",
    "/staff/cases/grant/archive/",
    "/staff/cases/grant/flows/",
    "/staff/cases/grant/tasks/",
    "/staff/cases/grant/queue/",
    "/staff/cases/grant/inbox/",
]


def test_lists_cost_the_same_for_5_and_200_cases(client, olle, anna, fisksatra, inclusion_call):
    made = [submitted(inclusion_call, fisksatra, anna, title=f"Ansökan {i}") for i in range(5)]
    client.force_login(olle)
    for application in made[:3]:
        claim(client, application, "check_completeness")
    small = {url: _queries(client, url) for url in PAGES}
    made += [submitted(inclusion_call, fisksatra, anna, title=f"Ansökan {i}") for i in range(5, 200)]
    for application in made[-3:]:
        claim(client, application, "check_completeness")
    large = {url: _queries(client, url) for url in PAGES}
    print(small, large)
    assert large == small
    assert max(large.values()) <= 20
