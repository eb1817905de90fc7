"""The applicant's start page lists the association's cases 20 a page (grants/portal/paging.py):
what it costs does not grow with the number of applications (issue 16: 4.7 s at 10,000)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import Application
from tests import factories

pytestmark = pytest.mark.django_db


def copies(application, count):
    """`count` more drafts like `application`, in one INSERT (the services would take minutes)."""
    fields = {
        f.attname: getattr(application, f.attname) for f in Application._meta.concrete_fields if not f.primary_key
    }
    fields.pop("process_id", None)
    rows = [Application(**{**fields, "title": f"Ansökan {n:04}"}) for n in range(count)]
    Application.objects.bulk_create(rows)


def titles(response):
    return re.findall(r'<td><a href="/portal/ansokningar/\d+/">([^<]+)</a></td>', response.content.decode())


def test_the_start_page_shows_twenty_a_page_with_links_between_pages(client, anna, fisksatra, inclusion_call):
    first = factories.draft(inclusion_call, fisksatra, anna, title="Den första")
    copies(first, 44)
    client.force_login(anna)

    page1 = client.get("/portal/")
    assert len(titles(page1)) == 20 and titles(page1)[0] == "Ansökan 0043"  # the newest first
    html = page1.content.decode()
    assert '<nav class="pages" aria-label="Sidor: Ärenden">' in html
    assert 'href="?sida=2#arenden" rel="next">Nästa →</a>' in html and 'rel="prev"' not in html

    page3 = client.get("/portal/?sida=3")
    assert titles(page3)[-1] == "Den första" and len(titles(page3)) == 5
    html = page3.content.decode()
    assert 'href="?sida=2#arenden" rel="prev">← Föregående</a>' in html and 'rel="next"' not in html
    assert '<span aria-current="page">Sida 3</span>' in html

    # Past the end, or a page that is not a number: never an error.
    assert "Det finns inga fler ärenden." in client.get("/portal/?sida=9").content.decode()
    assert titles(client.get("/portal/?sida=x")) == titles(page1)


def test_one_page_is_not_paged(client, anna, fisksatra, inclusion_call):
    factories.draft(inclusion_call, fisksatra, anna)
    client.force_login(anna)
    html = client.get("/portal/").content.decode()
    assert len(titles(client.get("/portal/"))) == 1 and 'class="pages"' not in html


def test_the_start_page_costs_the_same_whatever_the_number_of_applications(client, anna, fisksatra, inclusion_call):
    first = factories.draft(inclusion_call, fisksatra, anna)
    copies(first, 9)
    client.force_login(anna)
    client.get("/portal/")  # the session and the caches are warm

    def measured():
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/portal/")
        assert response.status_code == 200
        return len(queries), len(response.content)

    queries_at_10, size_at_10 = measured()
    copies(first, 990)
    queries_at_1000, size_at_1000 = measured()
    assert queries_at_1000 == queries_at_10
    assert size_at_1000 < size_at_10 * 2.5  # 20 rows, not a thousand
