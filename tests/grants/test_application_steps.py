"""The application form in steps, as Anna fills it in: each step saves the draft and comes
back as saved; errors show at the field and in a summary at the top; the check page lists
every answer with a way back to its step, says what stops the submission, and sends it."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from grants.models import Application, Document, Organisation
from grants.services import apply
from workflows.process import active_task_names

from .. import factories

pytestmark = pytest.mark.django_db


def step_url(application, step):
    return reverse("portal:step", args=[application.pk, step])


def html(response):
    """The page, with the thousands separators in amounts as plain spaces."""
    return re.sub(r"(?<=\d)[\xa0\u202f](?=\d)", " ", response.content.decode())


def details(organisation, **overrides):
    return {
        "organisation": organisation.pk,
        "title": "Läxhjälp och fotboll",
        "description": "Läxhjälp en timme, sedan fotboll, två kvällar i veckan.",
        "period_start": "2026-08-25",
        "period_end": "2026-12-20",
        **overrides,
    }


def amount(value="30000", lines=(("cost", "Ledararvoden", "25000"), ("cost", "Hallhyra", "10000"))):
    data = {
        "requested_amount": value,
        "budget-TOTAL_FORMS": str(max(len(lines), 1)),
        "budget-INITIAL_FORMS": "0",
        "budget-MIN_NUM_FORMS": "0",
        "budget-MAX_NUM_FORMS": "30",
    }
    for index, (kind, label, sum_) in enumerate(lines):
        data.update({f"budget-{index}-kind": kind, f"budget-{index}-label": label, f"budget-{index}-amount": sum_})
    return data


def current_step(page):
    """The title of the step the indicator marks as current."""
    match = re.search(r'<li aria-current="step">([^<]*)</li>', page)
    return match and match.group(1).strip()


def test_each_step_saves_and_comes_back_as_saved(client, anna, fisksatra, inclusion_call, pdf_bytes):
    client.force_login(anna)
    page = html(client.get(reverse("portal:apply", args=[inclusion_call.pk])))
    assert current_step(page) == "1. Sökande och projekt"
    assert '<ol class="steps">' in page and "Spara och fortsätt" in page

    response = client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra))
    application = Application.objects.get()
    assert response.status_code == 302 and response.url == step_url(application, "belopp")
    assert (application.status, application.title, application.organisation) == (
        "draft",
        "Läxhjälp och fotboll",
        fisksatra,
    )
    page = html(client.get(response.url))
    assert current_step(page) == "2. Belopp"
    assert f'href="{step_url(application, "sokande")}"' in page  # back to step 1, and every step is a link

    response = client.post(step_url(application, "belopp"), amount())
    assert response.status_code == 302 and response.url == step_url(application, "bilagor")
    application.refresh_from_db()
    assert application.requested_amount == Decimal("30000.00")
    assert [(line.label, line.amount) for line in application.budget_lines.all()] == [
        ("Ledararvoden", Decimal("25000.00")),
        ("Hallhyra", Decimal("10000.00")),
    ]

    # Anna goes back: both steps show what she saved.
    page = html(client.get(step_url(application, "sokande")))
    assert 'value="Läxhjälp och fotboll"' in page and 'value="2026-08-25"' in page
    page = html(client.get(step_url(application, "belopp")))
    assert 'value="30 000"' in page and 'value="Ledararvoden"' in page

    # A file, then on to the check page.
    upload = SimpleUploadedFile("budget.pdf", pdf_bytes, content_type="application/pdf")
    response = client.post(step_url(application, "bilagor"), {"attachment": upload, "action": "attach"})
    assert response.status_code == 302 and response.url == step_url(application, "bilagor")
    page = html(client.get(response.url))
    assert "budget.pdf" in page and "Filen budget.pdf är bifogad." in page
    response = client.post(step_url(application, "bilagor"), {})
    assert response.status_code == 302 and response.url == step_url(application, "granska")
    assert application.documents.get().kind == Document.Kind.ATTACHMENT


def test_the_check_page_lists_every_answer_with_a_link_to_its_step_and_submits(
    client, anna, fisksatra, inclusion_call, pdf_bytes, django_capture_on_commit_callbacks
):
    inclusion_call.programme.priority_areas = ["Barn och unga", "Trygghet"]
    inclusion_call.programme.save()
    client.force_login(anna)
    client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra, priority_area="Trygghet"))
    application = Application.objects.get()
    client.post(step_url(application, "belopp"), amount())
    client.post(
        step_url(application, "bilagor"),
        {"attachment": SimpleUploadedFile("budget.pdf", pdf_bytes, content_type="application/pdf")},
    )

    page = html(client.get(step_url(application, "granska")))
    assert current_step(page) == "4. Granska och skicka in"
    for answer in (
        "Fisksätra IF",
        "Läxhjälp och fotboll",
        "två kvällar i veckan",
        "2026-08-25 – 2026-12-20",
        "Trygghet",
        "30 000,00 kr",
        "Ledararvoden",
        "Hallhyra",
        "budget.pdf",
    ):
        assert answer in page, answer
    for step in ("sokande", "belopp", "bilagor"):
        assert f'<a href="{step_url(application, step)}">Ändra<span class="skip">' in page
    assert "Innan du kan skicka in" not in page
    assert "Skicka in ansökan" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:submit", args=[application.pk]))
    application.refresh_from_db()
    assert response.status_code == 302 and response.url == reverse("portal:application", args=[application.pk])
    assert application.status == "submitted" and application.case_number.startswith("KFN ")
    assert active_task_names(application) == ["check_completeness"]
    page = html(client.get(response.url))
    assert f"har fått diarienummer {application.case_number}" in page
    receipt = application.documents.get(kind=Document.Kind.RECEIPT)
    assert receipt.filename in page


def test_the_check_page_says_what_stops_the_submission_and_offers_no_button(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra))
    application = Application.objects.get()
    page = html(client.get(step_url(application, "granska")))
    assert "Innan du kan skicka in" in page
    assert "Det sökta beloppet måste vara större än 0 kr." in page
    assert "Budgeten saknar kostnader. Lägg till minst en kostnadspost." in page
    assert "Skicka in ansökan</button>" not in page

    # Posted anyway: refused, shown on the check page, nothing taken.
    response = client.post(reverse("portal:submit", args=[application.pk]))
    assert response.status_code == 400 and "Budgeten saknar kostnader" in html(response)
    application.refresh_from_db()
    assert (application.status, application.case_number) == ("draft", "")


def test_errors_are_shown_at_the_field_and_in_the_summary_at_the_top(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    response = client.post(
        reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra, title="", period_end="2026-01-01")
    )
    assert response.status_code == 200
    page = html(response)
    summary = page[page.index('class="error-summary"') : page.index("</div>", page.index('class="error-summary"'))]
    assert "Något behöver rättas" in summary
    assert '<a href="#id_title">Projektnamn eller rubrik</a>: Detta fält måste fyllas i.' in summary
    assert '<a href="#id_period_end">Periodens slut</a>: Periodens slut kan inte ligga före dess början.' in summary
    assert '<p class="errorlist" id="id_title_error">Detta fält måste fyllas i.</p>' in page
    assert 'aria-describedby="id_period_end_error"' in page and 'aria-invalid="true"' in page
    assert not Application.objects.exists()


def test_a_refused_amount_is_shown_at_the_field_and_leaves_the_draft_as_it_was(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra))
    application = Application.objects.get()
    client.post(step_url(application, "belopp"), amount())
    response = client.post(
        step_url(application, "belopp"),
        amount("999999", lines=(("cost", "Ledararvoden", "25000"), ("cost", "Lokal", ""))),
    )
    assert response.status_code == 200
    page = html(response)
    assert (
        '<a href="#id_requested_amount">Sökt belopp (kr)</a>: Beloppet är högre än utlysningens högsta belopp' in page
    )
    assert '<a href="#id_budget-1-amount">Budget, rad 2: Belopp (kr)</a>: Detta fält måste fyllas i.' in page
    application.refresh_from_db()
    assert application.requested_amount == Decimal("30000.00") and application.budget_lines.count() == 2


def test_a_programme_with_a_rule_asks_for_its_inputs_and_the_check_page_for_the_missing_ones(
    client, anna, fisksatra, activity_call
):
    client.force_login(anna)
    client.post(reverse("portal:apply", args=[activity_call.pk]), details(fisksatra))
    application = Application.objects.get()
    page = html(client.get(step_url(application, "granska")))
    assert "Fyll i ”Antal medlemmar” under Belopp." in page and "Skicka in ansökan</button>" not in page
    assert client.post(reverse("portal:submit", args=[application.pk])).status_code == 400

    page = html(client.get(step_url(application, "belopp")))
    assert "Antal medlemmar" in page and "requested_amount" not in page and "budget-TOTAL_FORMS" not in page
    response = client.post(step_url(application, "belopp"), {"input_members": "40"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.requested_amount == Decimal("11000.00")  # 5 000 + 40 × 150
    page = html(client.get(step_url(application, "granska")))
    assert "Innan du kan skicka in" not in page and "11 000,00 kr" in page


def test_the_old_addresses_lead_into_the_steps(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra))
    application = Application.objects.get()
    response = client.get(reverse("portal:edit", args=[application.pk]))
    assert response.status_code == 302 and response.url == step_url(application, "sokande")
    assert client.get(step_url(application, "nosuchstep")).status_code == 404


def test_a_sent_application_cannot_be_changed_in_the_steps(client, anna, fisksatra, inclusion_call):
    today = timezone.localdate()
    application = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp.",
        period_start=today,
        period_end=today + dt.timedelta(days=90),
        stated_amount=Decimal("10000"),
        budget_lines=[("cost", "Ledare", Decimal("12000"))],
    )
    apply.application_submit(application=application, by=anna)
    client.force_login(anna)
    for step in ("sokande", "belopp", "bilagor", "granska"):
        response = client.post(step_url(application, step), details(fisksatra, title="Ändrad"), follow=True)
        assert response.redirect_chain[-1][0] == reverse("portal:application", args=[application.pk])
        assert "Ansökan kan inte längre ändras: den har status ”Inkommen”." in html(response)
    assert Application.objects.get().title == "Läxhjälp"


def test_someone_elses_draft_is_not_found_in_any_step(client, anna, eve, fisksatra, inclusion_call):
    client.force_login(anna)
    client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra))
    application = Application.objects.get()
    client.force_login(eve)
    for step in ("sokande", "belopp", "bilagor", "granska"):
        assert client.get(step_url(application, step)).status_code == 404
        assert client.post(step_url(application, step), details(fisksatra, title="Eves")).status_code == 404
    assert Application.objects.get().title == "Läxhjälp och fotboll"


def test_a_programme_only_for_associations_does_not_offer_an_informal_group(client, anna, fisksatra, inclusion_call):
    group = Organisation.objects.create(kind="informal_group", name="Nattvandrarna i Fisksätra", sponsor=fisksatra)
    group.memberships.create(user=anna)
    client.force_login(anna)
    page = html(client.get(reverse("portal:apply", args=[inclusion_call.pk])))
    assert "Nattvandrarna i Fisksätra" in page
    inclusion_call.programme.who_may_apply = "associations"
    inclusion_call.programme.save()
    page = html(client.get(reverse("portal:apply", args=[inclusion_call.pk])))
    assert "Nattvandrarna i Fisksätra" not in page
    response = client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(group))
    assert response.status_code == 200 and not Application.objects.exists()


# --- the case page -----------------------------------------------------------------------


def test_the_case_page_says_where_the_case_is_and_what_anna_must_do_by_when(
    client, anna, olle, fisksatra, inclusion_call, in_a_week
):
    from grants.services import assess

    client.force_login(anna)
    client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra))
    application = Application.objects.get()
    page = html(client.get(reverse("portal:application", args=[application.pk])))
    assert "Var är ärendet?" in page and "Det här behöver du göra" in page
    assert re.search(r'<li class="current" aria-current="step">\s*<strong>Ansökan</strong>', page)
    assert "Fyll i ansökan och skicka in den." in page
    assert f"Senast {inclusion_call.closes_on:%Y-%m-%d}." in page
    assert step_url(application, "granska") in page

    client.post(step_url(application, "belopp"), amount())
    apply.application_submit(application=application, by=anna)
    page = html(client.get(reverse("portal:application", args=[application.pk])))
    assert re.search(r'<li class="current" aria-current="step">\s*<strong>Bedömning</strong>', page)
    assert "Inget just nu. Vänta på beslutet." in page

    assess.completion_request(application=application, by=olle, message="Bifoga årsmötesprotokollet.", due_on=in_a_week)
    page = html(client.get(reverse("portal:application", args=[application.pk])))
    assert "Komplettera ansökan med det handläggaren ber om." in page and f"Senast {in_a_week:%Y-%m-%d}." in page
    assert "Begäran om komplettering" in page and "Bifoga årsmötesprotokollet." in page  # under Meddelanden
    apply.completion_answer(application=application, by=anna, answer="Här är protokollet.")
    page = html(client.get(reverse("portal:application", args=[application.pk])))
    assert "Svar på kompletteringen" in page and "Här är protokollet." in page


def test_the_case_page_keeps_staffs_own_notes_to_staff(client, anna, olle, otto, fisksatra, inclusion_call):
    from grants.services import assess

    today = timezone.localdate()
    application = apply.application_submit(
        application=apply.application_save_draft(
            call=inclusion_call,
            organisation=fisksatra,
            by=anna,
            title="Läxhjälp",
            description="Läxhjälp.",
            period_start=today,
            period_end=today + dt.timedelta(days=90),
            stated_amount=Decimal("10000"),
            budget_lines=[("cost", "Ledare", Decimal("12000"))],
        ),
        by=anna,
    )
    assess.completeness_confirm(application=application, by=olle)
    assess.conflict_declare(application=application, by=olle, reason="Min bror är kassör.")
    client.force_login(anna)
    page = html(client.get(reverse("portal:application", args=[application.pk])))
    assert "Min bror är kassör." not in page and "Jäv anmält" not in page


def test_a_grant_paid_in_part_reads_as_partly_paid_while_the_report_is_owed(
    client, anna, olle, fia, fisksatra, inclusion_call
):
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    statuses = sorted(application.payments.values_list("status", flat=True))
    assert statuses == ["paid", "withheld"], statuses  # the programme withholds the last part
    client.force_login(anna)
    page = html(client.get(reverse("portal:application", args=[application.pk])))
    assert re.search(
        r'<li class="partly">\s*<strong>Utbetalning</strong>\s*<span class="state">Delvis klart</span>', page
    ), page[page.find('class="progress"') :][:1500]
    assert re.search(r'<li class="current" aria-current="step">\s*<strong>Återrapport</strong>', page)
