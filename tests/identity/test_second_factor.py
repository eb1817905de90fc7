"""A staff member who signs in with a password gives a second factor (TOTP, or a backup
code) before the staff pages and the admin, when STAFF_REQUIRE_SECOND_FACTOR is on (as in
production); single sign-on and applicants are never asked."""

import time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from grants.identity.models import SecurityEvent
from grants.identity.session import EID_BACKEND, SSO_BACKEND

pytestmark = pytest.mark.django_db

SETUP = "/konto/tvastegsverifiering/ny/"
VERIFY = "/konto/tvastegsverifiering/"


@pytest.fixture(autouse=True)
def required(settings):
    settings.STAFF_REQUIRE_SECOND_FACTOR = True


def code(device, later=0):
    """The app's code now (or `later` seconds from now: a code already used is refused)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + later
    return f"{totp.token():06d}"


def sign_in(client, username="olle"):
    response = client.post("/konto/logga-in/", {"username": username, "password": "demo"})
    assert response.status_code == 302, response.content.decode()[:500]


def set_up(client):
    """Set up the app as a person would: open the set-up page, type the code it computes."""
    client.get(SETUP)
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(SETUP, {"code": code(device), "next": "/staff/"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return device, response


def events(action):
    return SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SECOND_FACTOR, details__action=action)


def test_without_a_device_staff_and_admin_pages_send_to_set_up(client, olle):
    sign_in(client)
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fstaff%2F"
    assert client.get("/staff/cases/grant/queue/")["Location"].startswith(SETUP)
    User.objects.filter(pk=olle.pk).update(is_staff=True)
    assert client.get("/admin/")["Location"] == f"{SETUP}?next=%2Fadmin%2F"
    # The admin's own login and logout stay open; so do the applicant's pages.
    assert client.get("/admin/login/").status_code in (200, 302)
    assert not client.get("/admin/login/").get("Location", "").startswith(SETUP)
    assert client.get("/portal/installningar/").status_code == 200


def test_set_up_with_a_code_then_reach_staff_pages(client, olle):
    sign_in(client)
    page = client.get(f"{SETUP}?next=/staff/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "<svg" in content and "<img" not in content  # the QR code is drawn inline
    device = TOTPDevice.objects.get(user=olle, confirmed=False)
    response = client.post(SETUP, {"code": code(device), "next": "/staff/"})
    assert response["Location"] == "/konto/tvastegsverifiering/ny/koder/?next=%2Fstaff%2F"
    shown = client.get(response["Location"])
    codes = list(StaticToken.objects.filter(device__user=olle).values_list("token", flat=True))
    assert len(codes) == 10 and all(each in shown.content.decode() for each in codes)
    # Shown once: the page does not show them again.
    assert client.get(response["Location"])["Location"] == "/staff/"
    assert not client.get("/staff/").get("Location", "").startswith("/konto/")
    assert client.get("/staff/cases/grant/queue/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert events("totp_set_up").filter(user=olle).count() == 1
    assert events("backup_codes_made").filter(user=olle).count() == 1


def test_a_wrong_code_at_set_up_is_refused_and_nothing_is_confirmed(client, olle):
    sign_in(client)
    client.get(SETUP)
    response = client.post(SETUP, {"code": "000000", "next": "/staff/"})
    assert response.status_code == 400
    assert "Koden stämmer inte" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert client.get("/staff/")["Location"].startswith(SETUP)


def test_next_sign_in_asks_for_the_code(client, olle):
    sign_in(client)
    device, _response = set_up(client)
    client.post("/konto/logga-ut/")
    sign_in(client)
    response = client.get("/staff/cases/grant/queue/")
    assert response["Location"] == f"{VERIFY}?next=%2Fstaff%2Fcases%2Fgrant%2Fqueue%2F"
    # The set-up page does not let a password alone replace the app.
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    device.refresh_from_db()
    response = client.post(VERIFY, {"code": code(device, later=30), "next": "/staff/cases/grant/queue/"})
    assert response["Location"] == "/staff/cases/grant/queue/"
    assert client.get("/staff/cases/grant/queue/").status_code == 200


def test_a_wrong_code_is_refused_and_guessing_is_throttled(client, olle):
    sign_in(client)
    device, _response = set_up(client)
    client.post("/konto/logga-ut/")
    sign_in(client)
    response = client.post(VERIFY, {"code": "000000", "next": "/staff/"})
    assert response.status_code == 400
    assert "Koden stämmer inte" in response.content.decode()
    assert client.get("/staff/")["Location"].startswith(VERIFY)
    # Right after a wrong code, even the right one waits (django-otp's throttling).
    device.refresh_from_db()
    response = client.post(VERIFY, {"code": code(device, later=30), "next": "/staff/"})
    assert response.status_code == 400
    assert "För många felaktiga koder" in response.content.decode()
    assert client.get("/staff/")["Location"].startswith(VERIFY)


def test_a_backup_code_works_once(client, olle):
    sign_in(client)
    set_up(client)
    backup = StaticToken.objects.filter(device__user=olle).first().token
    client.post("/konto/logga-ut/")
    sign_in(client)
    response = client.post(VERIFY, {"code": backup.upper(), "next": "/staff/cases/grant/queue/"})
    assert response["Location"] == "/staff/cases/grant/queue/"
    assert client.get("/staff/cases/grant/queue/").status_code == 200
    assert StaticToken.objects.filter(device__user=olle).count() == 9
    assert events("backup_code_used").filter(user=olle).count() == 1
    client.post("/konto/logga-ut/")
    sign_in(client)
    response = client.post(VERIFY, {"code": backup, "next": "/staff/"})
    assert response.status_code == 400
    assert client.get("/staff/")["Location"].startswith(VERIFY)


def test_an_applicant_is_never_asked(client, anna):
    sign_in(client, "anna")
    for url in ("/staff/", "/admin/", "/portal/"):
        location = client.get(url).get("Location", "")
        assert not location.startswith("/konto/tvastegsverifiering"), url
    assert client.get(SETUP).status_code == 403
    assert client.get(VERIFY).status_code == 403


@pytest.mark.parametrize("backend", [SSO_BACKEND, EID_BACKEND])
def test_single_sign_on_is_not_asked(client, olle, backend):
    client.force_login(olle, backend=backend)
    assert client.get("/staff/cases/grant/queue/").status_code == 200


def test_off_in_the_embedded_default(client, olle, settings):
    settings.STAFF_REQUIRE_SECOND_FACTOR = False
    sign_in(client)
    assert client.get("/staff/cases/grant/queue/").status_code == 200


def test_remove_from_the_settings_page_only_when_verified(client, olle):
    sign_in(client)
    set_up(client)
    page = client.get("/portal/installningar/").content.decode()
    assert "Ta bort tvåstegsverifieringen" in page
    client.post("/konto/logga-ut/")
    sign_in(client)
    page = client.get("/portal/installningar/").content.decode()
    assert "Ta bort tvåstegsverifieringen" not in page and "Ange en kod" in page
    assert client.post("/konto/tvastegsverifiering/ta-bort/")["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=olle).exists()
    device = TOTPDevice.objects.get(user=olle)
    client.post(VERIFY, {"code": code(device, later=30)})
    response = client.post("/konto/tvastegsverifiering/ta-bort/")
    assert response["Location"] == "/portal/installningar/"
    assert not TOTPDevice.objects.filter(user=olle).exists()
    assert not StaticToken.objects.filter(device__user=olle).exists()
    assert events("removed").filter(user=olle).count() == 1
    assert client.get("/staff/")["Location"].startswith(SETUP)


def test_the_administrator_removes_a_device_in_the_admin(client, olle):
    sign_in(client)
    device, _response = set_up(client)
    admin = User.objects.create_superuser("admin", "admin@example.se", "demo")
    client.force_login(admin, backend=SSO_BACKEND)
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    removed = events("removed").get(user=olle)
    assert removed.actor == admin


def test_a_verified_staff_request_costs_one_query_more(client, olle, django_assert_num_queries):
    """The gate reads the session's device (django-otp's middleware): one query, whatever the page."""
    client.force_login(olle, backend=SSO_BACKEND)
    client.get("/staff/cases/grant/queue/")
    with CaptureQueriesContext(connection) as without_factor:
        assert client.get("/staff/cases/grant/queue/").status_code == 200
    before = len(without_factor)  # now: the next request forgets the queries
    client.post("/konto/logga-ut/")
    sign_in(client)
    set_up(client)
    client.get("/staff/cases/grant/queue/")
    with django_assert_num_queries(before + 1):
        assert client.get("/staff/cases/grant/queue/").status_code == 200


def test_a_verified_person_sets_up_a_new_phone_in_place_of_the_old(client, olle):
    sign_in(client)
    old, _response = set_up(client)
    old_codes = set(StaticToken.objects.filter(device__user=olle).values_list("token", flat=True))
    assert client.get(SETUP).status_code == 200  # verified in this session: may replace it
    new = TOTPDevice.objects.get(user=olle, confirmed=False)
    assert new.key != old.key
    assert client.post(SETUP, {"code": code(new), "next": "/portal/installningar/"}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=olle).values_list("pk", flat=True)) == [new.pk]
    codes = set(StaticToken.objects.filter(device__user=olle).values_list("token", flat=True))
    assert len(codes) == 10 and not codes & old_codes
    assert events("totp_set_up").filter(user=olle, details__replaced=True).count() == 1
    assert client.get("/staff/cases/grant/queue/").status_code == 200


def test_next_elsewhere_is_not_followed(client, olle):
    sign_in(client)
    client.get(SETUP)
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(SETUP, {"code": code(device), "next": "https://elsewhere.example/"})
    assert response["Location"] == "/konto/tvastegsverifiering/ny/koder/?next=%2F"


def test_the_admin_does_not_show_the_secret(client, olle):
    sign_in(client)
    device, _response = set_up(client)
    backup = StaticToken.objects.filter(device__user=olle).first().token
    admin = User.objects.create_superuser("admin", "admin@example.se", "demo")
    client.force_login(admin, backend=SSO_BACKEND)
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page
    static = StaticToken.objects.get(token=backup).device
    assert backup not in client.get(f"/admin/otp_static/staticdevice/{static.pk}/change/").content.decode()


def test_the_settings_page_is_titled_by_its_name_and_shows_the_section_once(client, olle):
    """A merge once put the second factor's section inside the page's <title>."""
    import re

    sign_in(client)
    set_up(client)
    html = client.get("/portal/installningar/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "Inställningar" in title and "<" not in title and "Tvåstegsverifiering" not in title
    assert html.count('id="tvasteg"') == 1
