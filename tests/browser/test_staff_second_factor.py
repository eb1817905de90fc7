"""A local staff account without a second factor cannot reach /staff/ in production
settings: Olle signs in with his password, lands on the set-up page, sets up the app and
reaches his queue; the set-up, backup-code, verify and settings pages pass axe-core and
fit a phone's 320 px."""

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import DESKTOP, checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def app_code(device, later=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + later
    return f"{totp.token():06d}"


@pytest.mark.parametrize("width", [DESKTOP["width"], 320])
def test_local_staff_account_without_second_factor_cannot_reach_staff(page, olle, settings, width):
    settings.STAFF_REQUIRE_SECOND_FACTOR = True
    page.set_viewport_size({"width": width, "height": 740})
    log_in(page, "olle")
    page.goto("/portal/installningar/")
    assert "Du har ingen autentiseringsapp inställd" in checked(page).get_by_role("main").inner_text()
    page.goto("/staff/")
    assert page.url.endswith("/konto/tvastegsverifiering/ny/?next=%2Fstaff%2F"), page.url
    checked(page)
    device = TOTPDevice.objects.get(user=olle, confirmed=False)
    page.get_by_label("Kod").fill("123 45")
    page.get_by_role("button", name="Bekräfta och slå på").click()
    assert "Koden stämmer inte" in checked(page).get_by_role("main").inner_text()
    assert "/konto/tvastegsverifiering/ny/" in page.url
    time.sleep(1.1)  # django-otp waits a second after a wrong code
    page.get_by_label("Kod").fill(app_code(device))
    page.get_by_role("button", name="Bekräfta och slå på").click()
    assert "Dina reservkoder" in checked(page).get_by_role("main").inner_text()
    page.get_by_role("link", name="Jag har sparat koderna – fortsätt").click()
    assert "/staff/" in page.url and "/konto/" not in page.url, page.url
    page.goto("/portal/installningar/")
    assert "Ta bort tvåstegsverifieringen" in checked(page).get_by_role("main").inner_text()
    # The next sign-in asks for the code.
    page.get_by_role("button", name="Logga ut").click()
    log_in(page, "olle")
    page.goto("/staff/")
    assert "/konto/tvastegsverifiering/?next=" in page.url, page.url
    checked(page)
    page.goto("/portal/installningar/")
    assert "För att ändra den anger du först en kod" in checked(page).get_by_role("main").inner_text()
    page.go_back()
    page.get_by_label("Kod").fill("abc")
    page.get_by_role("button", name="Fortsätt").click()
    assert "Koden stämmer inte" in checked(page).get_by_role("main").inner_text()
    time.sleep(1.1)
    device.refresh_from_db()
    page.get_by_label("Kod").fill(app_code(device, later=30))
    page.get_by_role("button", name="Fortsätt").click()
    assert "/staff/" in page.url and "/konto/" not in page.url, page.url
