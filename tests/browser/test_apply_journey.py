"""The applicant's journey in Chromium, with axe-core on every page: Anna goes from the
catalogue to an open call, through the application's steps with a PDF, checks her answers
and submits; an informal group's member sends an application to its sponsor, and the
sponsor's member confirms it so that it gets its case number."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from grants.models import Application, Membership, Organisation
from grants.services import apply

from .conftest import checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_anna_applies_from_the_catalogue_through_every_step(page, anna, fisksatra, inclusion_call, pdf_bytes):
    programme = inclusion_call.programme
    programme.priority_areas = ["Barn och unga", "Trygghet"]
    programme.save()
    log_in(page, "anna")

    page.goto("/bidrag/")
    checked(page)
    page.get_by_role("link", name="Projektbidrag för inkludering").click()
    checked(page)
    page.get_by_role("link", name="Logga in och ansök").click()
    page.get_by_role("link", name="Ansök om projektbidrag för inkludering").click()

    # Step 1: nothing filled in, the errors at the fields and in the summary.
    assert page.locator('[aria-current="step"]').inner_text() == "1. Sökande och projekt"
    checked(page)
    page.get_by_role("button", name="Spara och fortsätt").click()
    summary = page.get_by_role("alert")
    assert "Något behöver rättas" in summary.inner_text() and "Projektnamn eller rubrik" in summary.inner_text()
    checked(page)
    page.get_by_label("Projektnamn eller rubrik").fill("Läxhjälp och fotboll")
    page.get_by_label("Beskrivning: vad vill ni göra, för vilka och varför?").fill(
        "Läxhjälp en timme, sedan fotboll, två kvällar i veckan."
    )
    page.get_by_label("Prioriterat område").select_option("Trygghet")
    page.get_by_label("Periodens början").fill("2026-08-25")
    page.get_by_label("Periodens slut").fill("2026-12-20")
    page.get_by_role("button", name="Spara och fortsätt").click()

    # Step 2: the amount and the budget.
    assert page.locator('[aria-current="step"]').inner_text() == "2. Belopp"
    assert "Utkastet är sparat." in page.get_by_role("status").inner_text()
    checked(page)
    page.get_by_label("Sökt belopp (kr)").fill("30000")
    page.get_by_label("Post, rad 1").fill("Ledararvoden")
    page.get_by_label("Belopp (kr), rad 1").fill("25000")
    page.get_by_label("Post, rad 2").fill("Hallhyra")
    page.get_by_label("Belopp (kr), rad 2").fill("10000")
    page.get_by_role("button", name="Spara och fortsätt").click()

    # Step 3: a PDF.
    assert page.locator('[aria-current="step"]').inner_text() == "3. Bilagor"
    checked(page)
    page.get_by_label("Lägg till en bilaga").set_input_files(
        files=[{"name": "budget.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes}]
    )
    page.get_by_role("button", name="Spara och fortsätt").click()

    # Step 4: every answer, then submit.
    assert page.locator('[aria-current="step"]').inner_text() == "4. Granska och skicka in"
    main = page.get_by_role("main").inner_text()
    for answer in ("Läxhjälp och fotboll", "Trygghet", "2026-08-25 – 2026-12-20", "Ledararvoden", "budget.pdf"):
        assert answer in main, answer
    checked(page)
    page.get_by_role("button", name="Skicka in ansökan").click()

    application = Application.objects.get()
    assert application.status == "submitted" and application.case_number
    assert f"har fått diarienummer {application.case_number}" in page.get_by_role("status").inner_text()
    assert page.get_by_role("heading", name="Var är ärendet?").is_visible()
    assert page.locator('[aria-current="step"]').inner_text().startswith("Bedömning")
    assert page.get_by_role("link", name=re.compile(r"^Mottagningskvitto")).is_visible()
    checked(page)

    # Withdrawing asks for a confirmation first.
    page.get_by_role("link", name="Återta ansökan").click()
    checked(page)
    page.get_by_role("button", name="Återta ansökan").click()
    assert page.get_by_role("alert").is_visible()
    checked(page)


def test_an_informal_groups_application_is_confirmed_by_the_sponsors_member(page, anna, fisksatra, inclusion_call):
    from tests import factories

    nadia = factories.user("nadia", first_name="Nadia")
    group = Organisation.objects.create(
        kind=Organisation.Kind.INFORMAL_GROUP, name="Nattvandrarna i Fisksätra", sponsor=fisksatra
    )
    Membership.objects.create(user=nadia, organisation=group)
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=inclusion_call,
        organisation=group,
        by=nadia,
        title="Trygga kvällar i Fisksätra",
        description="Nattvandring fredag och lördag.",
        period_start=today,
        period_end=today + dt.timedelta(days=90),
        stated_amount=Decimal("18000"),
        budget_lines=[("cost", "Västar och utbildning", Decimal("18000"))],
    )

    log_in(page, "nadia")
    page.goto(f"/portal/ansokningar/{draft.pk}/")
    checked(page)
    page.get_by_role("link", name="Fortsätt med ansökan").click()
    assert "Fisksätra IF" in page.get_by_role("main").inner_text()
    checked(page)
    page.get_by_role("button", name="Skicka till medsökaren").click()
    assert "Ansökan är skickad till Fisksätra IF." in page.get_by_role("status").inner_text()
    checked(page)
    assert Application.objects.get().status == "awaiting_sponsor"
    page.get_by_role("button", name="Logga ut").click()

    log_in(page, "anna")
    page.goto("/portal/")
    assert page.get_by_role("heading", name="Ansökningar att bekräfta som medsökare").is_visible()
    checked(page)
    page.get_by_role("link", name="Trygga kvällar i Fisksätra").click()
    checked(page)
    page.get_by_role("button", name="Bekräfta").click()
    application = Application.objects.get()
    assert application.status == "submitted" and application.sponsor_confirmed_by == anna
    assert f"diarienummer {application.case_number}" in page.get_by_role("status").inner_text()
    checked(page)
