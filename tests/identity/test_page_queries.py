"""The second factor's pages, and the settings page that shows it, cost a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .test_second_factor import SETUP, VERIFY, set_up, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def required(settings):
    settings.STAFF_REQUIRE_SECOND_FACTOR = True


def queries(client, url):
    client.get(url)  # the first visit may make the unconfirmed device
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_set_up_page(client, olle):
    sign_in(client)
    assert queries(client, SETUP) == PINNED["setup"]


def test_verify_page(client, olle):
    sign_in(client)
    set_up(client)
    client.post("/konto/logga-ut/")
    sign_in(client)
    assert queries(client, VERIFY) == PINNED["verify"]


def test_settings_page_for_staff_and_applicants(client, olle, anna):
    sign_in(client)
    set_up(client)
    assert queries(client, "/portal/installningar/") == PINNED["settings_staff"]
    client.post("/konto/logga-ut/")
    sign_in(client, "anna")
    assert queries(client, "/portal/installningar/") == PINNED["settings_applicant"]


# Measured once and pinned, so that a change is noticed. The applicant's settings page costs
# what it did before the second factor (session, person, settings) and its linked
# e-legitimation (one query, for staff too): nothing is asked for them.
PINNED = {"setup": 8, "verify": 5, "settings_staff": 6, "settings_applicant": 4}
