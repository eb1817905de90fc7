"""The applicant's start page, paged (issue 16): its page links are accessible (axe-core,
WCAG 2.1 A/AA) and nothing scrolls sideways on a 320 px screen; the links lead on and back."""

import pytest

from grants.models import Application
from tests import factories

from .conftest import checked, log_in

NARROW = {"width": 320, "height": 640}


@pytest.mark.django_db(transaction=True)
def test_a_paged_start_page_is_accessible_at_320_px(page):
    anna = factories.user("anna", first_name="Anna")
    fisksatra = factories.association(members=[anna])
    first = factories.draft(factories.call(factories.programme("inkludering")), fisksatra, anna, title="Den första")
    fields = {f.attname: getattr(first, f.attname) for f in Application._meta.concrete_fields if not f.primary_key}
    Application.objects.bulk_create([Application(**{**fields, "title": f"Ansökan {n}"}) for n in range(44)])

    page.set_viewport_size(NARROW)
    log_in(page, "anna")
    page.goto("/portal/")
    nav = page.get_by_role("navigation", name="Sidor: Ärenden")
    nav.get_by_role("link", name="Nästa →").click()
    assert page.url.endswith("/portal/?sida=2#arenden")
    assert "Sida 2" in nav.inner_text() and nav.get_by_role("link", name="← Föregående").count() == 1
    checked(page)
    nav.get_by_role("link", name="Nästa →").click()
    assert page.get_by_role("link", name="Den första").count() == 1  # the oldest, on the last page
    checked(page)
