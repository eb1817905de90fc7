"""The annual grant report as Lena from management uses it: the page with its figures and
charts, the selection, and who may see it. Through HTTP, as a person would."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.urls import staff_site
from grants.models import Programme

from .. import factories

pytestmark = pytest.mark.django_db

PAGE = reverse("reports:annual")
EXPORTS = ["reports:xlsx", "reports:csv", "reports:pdf", "reports:open_data_json", "reports:open_data_csv"]


@pytest.fixture
def lena(db):
    return factories.user("lena", role="Ledning", first_name="Lena")


@pytest.fixture
def year(today):
    return today.year


def kronor(text):
    """An amount as the page shows it: 40 000 kr (no-break space)."""
    return text.replace(" ", "\xa0") + " kr"


# Valid organisationsnummer (Luhn, third digit pair at least 20), one per extra association.
ORG_NUMBERS = [
    "802000-0009",
    "802000-0017",
    "802000-0025",
    "802000-0033",
    "802000-0041",
    "802000-0058",
    "802000-0066",
    "802000-0074",
]


@pytest.fixture
def calls(db):
    """Two committees' project calls of this year: inclusion (KFN) and against loneliness (SN)."""
    social = factories.committee("SN", "Socialnämnden")
    return [
        factories.call(
            factories.programme(
                "inkludering", priority_areas=["Barn och unga", "Jämställdhet"], delegation_limit=Decimal("500000")
            )
        ),
        factories.call(
            Programme.objects.create(
                committee=social,
                slug="ensamhet",
                name="Projektbidrag mot ensamhet",
                calculator="requested",
                delegation_limit=Decimal("500000"),
                payment_plan=[{"percent": 100, "release": "decision"}],
                who_may_apply="associations_and_groups",
            )
        ),
    ]


def granted_cases(calls, count, *, anna, olle, start=0):
    """`count` granted cases of 10 000, 20 000, … kr, alternating between the two committees,
    each for an association of its own in Fisksätra."""
    cases = []
    for index in range(start, start + count):
        organisation = factories.association(
            name=f"Förening {index}", org_number=ORG_NUMBERS[index], bankgiro="5050-1055", members=[anna]
        )
        organisation.district = "Fisksätra"
        organisation.save(update_fields=["district"])
        cases.append(
            factories.granted_case(
                calls[index % 2], organisation, anna, olle, amount=str(10000 * (index + 1)), title=f"Projekt {index}"
            )
        )
    return cases


# --- who may see it ------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    for url in [PAGE] + [reverse(name) for name in EXPORTS]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_officer_without_the_permission_is_refused(client, olle):
    client.force_login(olle)
    for url in [PAGE] + [reverse(name) for name in EXPORTS]:
        response = client.get(url)
        assert response.status_code == 403, url
    assert "ledningen" in client.get(PAGE).content.decode()


def test_lena_and_a_superuser_see_the_page(client, lena):
    client.force_login(lena)
    assert client.get(PAGE).status_code == 200
    admin = User.objects.create_superuser("root", "root@example.se", "demo")
    client.force_login(admin)
    assert client.get(PAGE).status_code == 200


def test_the_staff_menu_leads_management_to_the_report(client, lena, olle):
    app = next(viewset for viewset in staff_site._children if getattr(viewset, "title", "") == "Årsrapport")
    assert app.has_view_permission(lena) and not app.has_view_permission(olle)
    client.force_login(lena)
    response = client.get("/staff/ledning/")
    assert response.status_code == 302 and response["Location"] == PAGE


def test_the_page_answers_only_get(client, lena):
    client.force_login(lena)
    assert client.post(PAGE, {"year": "2026"}).status_code == 405


# --- what it shows -------------------------------------------------------------------------


def test_lena_sees_the_years_figures_tables_and_charts(client, lena, anna, olle, calls, year):
    cases = granted_cases(calls, 2, anna=anna, olle=olle)
    client.force_login(lena)
    response = client.get(PAGE)  # the current year by default
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Årsrapport om bidrag {year}" in page
    assert f'value="{year}"' in page
    # Summary and tables: 10 000 + 20 000 kr granted, in two committees.
    assert "<dt>Beviljat belopp</dt>" in page and kronor("30 000") in page
    assert kronor("10 000") in page and kronor("20 000") in page
    assert "Kultur- och fritidsnämnden" in page and "Socialnämnden" in page
    for key in (
        "by_committee",
        "by_programme",
        "by_priority_area",
        "by_target_group",
        "largest_recipients",
        "multi_committee",
        "by_month",
    ):
        assert f'id="tabell-{key}"' in page
    assert page.count("<caption>") == 7
    # The charts, inline and accessible, beside their tables.
    assert page.count('<svg class="chart"') == 5
    assert 'role="img"' in page and '<title id="chart-by_committee-title">Beviljat belopp per nämnd' in page
    assert "Ansökningar och beslut per månad" in page
    assert "<script" not in page.lower()
    assert "januari" in page and "december" in page
    assert cases[0].organisation.name in page and cases[1].organisation.name in page  # largest recipients


def test_every_export_link_carries_the_selection(client, lena, anna, olle, calls, year):
    case = granted_cases(calls, 1, anna=anna, olle=olle)[0]
    committee = case.call.programme.committee
    client.force_login(lena)
    page = client.get(PAGE, {"year": year, "committee": committee.pk, "district": "Fisksätra"}).content.decode()
    query = f"?year={year}&amp;committee={committee.pk}&amp;district=Fisks%C3%A4tra"
    for name in EXPORTS:
        assert f'href="{reverse(name)}{query}"' in page, name
    assert f'href="{reverse("reports:csv")}{query}&amp;table=by_committee"' in page
    assert f'href="{reverse("open_data:json", args=[year])}"' in page
    assert "Kommundel: Fisksätra" in page


def test_filters_narrow_the_figures(client, lena, anna, olle, calls, year):
    first, second = granted_cases(calls, 2, anna=anna, olle=olle)
    client.force_login(lena)
    page = client.get(PAGE, {"committee": second.call.programme.committee.pk}).content.decode()
    assert "Socialnämnden" in page and kronor("20 000") in page
    assert kronor("10 000") not in page


def test_a_year_without_data_shows_empty_tables(client, lena):
    client.force_login(lena)
    response = client.get(PAGE, {"year": "2001"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Årsrapport om bidrag 2001" in page
    assert page.count("Inga uppgifter för 2001</td>") == 6  # every table but the months, which are always twelve
    assert page.count('<svg class="chart"') == 5 and "Inga uppgifter för 2001</text>" in page


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"year": "tjugo"}, "year", "Ange året med fyra siffror, t.ex. 2026."),
        ({"year": "1066"}, "year", "Året kan inte vara före 2000."),
        ({"year": "2026", "committee": "999999"}, "committee", "Den nämnden finns inte."),
        ({"year": "2026", "committee": "KFN"}, "committee", "Den nämnden finns inte."),
        ({"year": "2026", "programme": "-1"}, "programme", "Den bidragsformen finns inte."),
        ({"year": "2026", "call": "x"}, "call", "Den utlysningen finns inte."),
        ({"year": "2026", "district": "Atlantis"}, "district", "Kommundelen Atlantis finns inte."),
    ],
)
def test_bad_filters_get_swedish_errors_not_a_crash(client, lena, params, field, message):
    client.force_login(lena)
    response = client.get(PAGE, params)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Urvalet kunde inte användas" in page and message in page and f'href="#id_{field}"' in page
    assert '<svg class="chart"' not in page
    # The exports answer the same way instead of making a file.
    export = client.get(reverse("reports:xlsx"), params)
    assert export.status_code == 400 and message in export.content.decode()


def test_the_filter_choices_come_from_the_database(client, lena, anna, olle, calls):
    case = granted_cases(calls, 1, anna=anna, olle=olle)[0]
    client.force_login(lena)
    page = client.get(PAGE).content.decode()
    assert f'<option value="{case.call.programme.committee.pk}">Kultur- och fritidsnämnden</option>' in page
    assert f'<option value="{case.call.programme.pk}">Projektbidrag för inkludering</option>' in page
    assert f'<option value="{case.call.pk}">{case.call.year} – Projektbidrag för inkludering: ' in page
    assert '<option value="Fisksätra">Fisksätra</option>' in page


def _page_queries(client, year):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE, {"year": year})
    assert response.status_code == 200
    return len(queries)


def test_the_page_makes_as_many_queries_for_one_grant_as_for_six(client, lena, anna, olle, calls, year):
    client.force_login(lena)
    granted_cases(calls, 1, anna=anna, olle=olle)
    small = _page_queries(client, year)
    more = granted_cases(calls, 6, anna=anna, olle=olle, start=1)
    assert len(more) == 6
    assert _page_queries(client, year) == small
    assert small <= 25, small  # the report (about ten), the filter choices (four), session and user


def test_the_month_table_counts_by_submission_month(client, lena, anna, olle, calls, today):
    granted_cases(calls, 1, anna=anna, olle=olle)
    client.force_login(lena)
    page = client.get(PAGE).content.decode()
    month = [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ][today.month - 1]
    assert f'<th scope="row">{month}</th><td class="num">1</td><td class="num">1</td>' in page
