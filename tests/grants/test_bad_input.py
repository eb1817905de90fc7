"""Bad input and skipped steps: each is refused with a clear Swedish message and changes
nothing — no row, no file, no state change, no case number."""

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from grants.models import Application, CaseEvent, CaseNumberSeries, Document, Organisation, Payment
from grants.services import apply, assess, decide, pay
from workflows.models import GrantProcess

from ..staff import draft, pdf_upload

pytestmark = pytest.mark.django_db


def stored_files(folder):
    return [name for _, _, names in os.walk(folder) for name in names]


def make_draft(call, organisation, by, *, amount="40000", budget=(("cost", "Ledararvoden", "50000"),)):
    today = timezone.localdate()
    return apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=by,
        title="Läxhjälp",
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal(amount),
        budget_lines=[(kind, label, Decimal(value)) for kind, label, value in budget],
    )


def close_call(call):
    today = timezone.localdate()
    type(call).objects.filter(pk=call.pk).update(
        opens_on=today - dt.timedelta(days=60), closes_on=today - dt.timedelta(days=1)
    )


def snapshot(application):
    """What must not change when a step is refused."""
    application = Application.objects.get(pk=application.pk)
    return (
        application.status,
        application.case_number,
        application.requested_amount,
        CaseEvent.objects.filter(application=application).count(),
        Document.objects.filter(application=application).count(),
        Payment.objects.filter(application=application).count(),
        list(Payment.objects.filter(application=application).values_list("status", flat=True)),
    )


# --- the application form --------------------------------------------------------------


def test_amount_above_the_calls_maximum_is_a_form_error_and_saves_nothing(
    client, anna, fisksatra, inclusion_call, media_root
):
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra, amount="250000", attachment=pdf_upload())
    assert response.status_code == 200
    assert "Beloppet är högre än utlysningens högsta belopp, 200000 kr." in response.content.decode()
    # The first step saved the draft; the amount step saved nothing, and no file was sent.
    application = Application.objects.get()
    assert application.requested_amount == 0 and not application.budget_lines.exists()
    assert not Document.objects.exists()
    assert stored_files(media_root) == []


def test_editing_a_draft_with_too_high_an_amount_leaves_the_draft_as_it_was(client, anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna)
    before = snapshot(application)
    client.force_login(anna)
    data = {
        "requested_amount": "999999",
        "budget-TOTAL_FORMS": "1",
        "budget-INITIAL_FORMS": "0",
        "budget-0-kind": "cost",
        "budget-0-label": "Ny post",
        "budget-0-amount": "1",
    }
    response = client.post(reverse("portal:step", args=[application.pk, "belopp"]), data)
    assert "högre än utlysningens högsta belopp" in response.content.decode()
    assert snapshot(application) == before
    assert [line.label for line in Application.objects.get().budget_lines.all()] == ["Ledararvoden"]


def test_period_ending_before_it_starts_is_refused(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra, period=("2026-12-31", "2026-01-01"))
    assert response.status_code == 200
    assert "Periodens slut kan inte ligga före dess början." in response.content.decode()
    assert not Application.objects.exists()


def test_applying_to_a_closed_call_is_refused(client, anna, fisksatra, inclusion_call):
    close_call(inclusion_call)
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert f"Utlysningen ”{inclusion_call.title}” är stängd sedan" in page
    assert not Application.objects.exists()


# --- uploads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "upload, message",
    [
        (
            SimpleUploadedFile("virus.exe", b"MZ\x90\x00", content_type="application/octet-stream"),
            "Filen virus.exe har en filtyp som inte tas emot. Ladda upp PDF, PNG eller JPEG.",
        ),
        (
            SimpleUploadedFile("budget.pdf", b"<html>not a pdf</html>", content_type="application/pdf"),
            "Filen budget.pdf är inte en riktig PDF-fil.",
        ),
        (
            SimpleUploadedFile("bild.png", b"%PDF-1.4\n", content_type="image/png"),
            "Filen bild.png är inte en riktig PNG-fil.",
        ),
        (
            SimpleUploadedFile("utan-filandelse", b"%PDF-1.4\n", content_type="application/pdf"),
            "har en filtyp som inte tas emot",
        ),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_and_nothing_is_stored(
    client, anna, fisksatra, inclusion_call, media_root, upload, message
):
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra, attachment=upload)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()  # the draft was saved by the earlier steps, the file not at all
    assert stored_files(media_root) == []


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(
    client, anna, fisksatra, inclusion_call, media_root, settings
):
    settings.GRANTS_UPLOAD_MAX_MB = 1
    client.force_login(anna)
    big = pdf_upload("stor.pdf", b"%PDF-1.4\n" + b"0" * (1536 * 1024))
    response = draft(client, inclusion_call, organisation=fisksatra, attachment=big)
    assert response.status_code == 200
    assert "Filen stor.pdf är för stor. Den största tillåtna storleken är 1 MB." in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files(media_root) == []


def test_a_bad_file_on_an_existing_draft_changes_nothing(client, anna, fisksatra, inclusion_call, media_root):
    application = make_draft(inclusion_call, fisksatra, anna)
    before = snapshot(application)
    client.force_login(anna)
    data = {"attachment": SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")}
    response = client.post(reverse("portal:step", args=[application.pk, "bilagor"]), data)
    assert "filtyp som inte tas emot" in response.content.decode()
    assert snapshot(application) == before
    assert stored_files(media_root) == []


def test_a_bad_file_with_a_completion_answer_is_refused_and_the_case_still_awaits_completion(
    client, anna, olle, fisksatra, inclusion_call, media_root, in_a_week
):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completion_request(application=application, by=olle, message="Skicka protokollet.", due_on=in_a_week)
    before, files_before = snapshot(application), stored_files(media_root)  # the receipt
    client.force_login(anna)
    response = client.post(
        reverse("portal:completion", args=[application.pk]),
        {"answer": "Här.", "attachment": SimpleUploadedFile("p.pdf", b"GIF89a", content_type="application/pdf")},
    )
    assert response.status_code == 400
    assert "Filen p.pdf är inte en riktig PDF-fil." in response.content.decode()
    assert snapshot(application) == before and before[0] == "awaiting_completion"
    assert stored_files(media_root) == files_before


# --- submission ------------------------------------------------------------------------


def test_submitting_after_the_call_closed_is_refused_and_takes_no_case_number(client, anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna)
    close_call(inclusion_call)
    before = snapshot(application)
    client.force_login(anna)
    response = client.post(reverse("portal:submit", args=[application.pk]), follow=True)
    assert response.status_code == 400  # the check page, with what stops the submission
    assert "Utlysningen stängde" in response.content.decode()
    assert "kan inte längre skickas in" in response.content.decode()
    assert snapshot(application) == before
    application.refresh_from_db()
    assert application.status == "draft" and application.case_number == ""
    assert not GrantProcess.objects.exists()
    assert not CaseNumberSeries.objects.filter(last_number__gt=0).exists()


def test_requesting_more_than_costs_minus_income_is_refused_at_submit(client, anna, fisksatra, inclusion_call):
    application = make_draft(
        inclusion_call,
        fisksatra,
        anna,
        amount="60000",
        budget=(("cost", "Ledare", "50000"), ("cost", "Lokal", "20000"), ("income", "Egen insats", "15000")),
    )
    before = snapshot(application)
    client.force_login(anna)
    response = client.post(reverse("portal:submit", args=[application.pk]), follow=True)
    assert (
        "Det sökta beloppet är större än budgetens kostnader minus intäkter och egen insats."
        in response.content.decode()
    )
    assert snapshot(application) == before
    assert not GrantProcess.objects.exists()


def test_a_budget_without_costs_is_refused_at_submit(client, anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna, budget=())
    client.force_login(anna)
    response = client.post(reverse("portal:submit", args=[application.pk]), follow=True)
    assert "Budgeten saknar kostnader. Lägg till minst en kostnadspost." in response.content.decode()
    assert Application.objects.get().status == "draft"


def test_an_association_without_bankgiro_or_plusgiro_cannot_submit(client, anna, inclusion_call):
    club = Organisation.objects.create(name="Kontolösa IF", org_number="802412-1231", bankgiro="")
    club.memberships.create(user=anna)
    application = make_draft(inclusion_call, club, anna)
    client.force_login(anna)
    response = client.post(reverse("portal:submit", args=[application.pk]), follow=True)
    assert "Kontolösa IF saknar bankgiro, plusgiro och IBAN att betala ut bidraget till." in response.content.decode()
    assert Application.objects.get().status == "draft"


# --- organisations ---------------------------------------------------------------------


def test_an_association_with_a_wrong_organisationsnummer_fails_validation(db):
    club = Organisation(name="Felnummer IF", org_number="802412-1232", bankgiro="5050-1055")
    with pytest.raises(ValidationError) as caught:
        club.full_clean()
    assert "Organisationsnumret 802412-1232 är inte giltigt" in " ".join(caught.value.message_dict["org_number"])
    assert not Organisation.objects.exists()


def test_an_association_with_a_wrong_bankgiro_fails_validation(db):
    club = Organisation(name="Felgiro IF", org_number="802412-1231", bankgiro="5050-1056")
    with pytest.raises(ValidationError) as caught:
        club.full_clean()
    assert "Bankgironumret 5050-1056 är inte giltigt" in " ".join(caught.value.message_dict["bankgiro"])


def test_an_association_needs_an_organisationsnummer_and_a_group_needs_a_sponsor(db, fisksatra):
    with pytest.raises(ValidationError) as caught:
        Organisation(name="Nummerlösa IF").full_clean()
    assert caught.value.message_dict["org_number"] == ["En förening måste ha ett organisationsnummer."]
    with pytest.raises(ValidationError) as caught:
        Organisation(name="Nattvandrarna", kind="informal_group").full_clean()
    assert caught.value.message_dict["sponsor"] == [
        "En grupp utan organisationsnummer måste söka med en medsökande förening."
    ]
    Organisation(name="Nattvandrarna", kind="informal_group", sponsor=fisksatra).full_clean()


# --- skipping steps --------------------------------------------------------------------


def submitted(call, organisation, by, amount="40000"):
    return apply.application_submit(application=make_draft(call, organisation, by, amount=amount), by=by)


def test_assessing_before_the_completeness_check_is_refused(anna, olle, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    before = snapshot(application)
    with pytest.raises(ValidationError) as caught:
        assess.assessment_record(
            application=application,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=Decimal("40000"),
            justification="Bra projekt.",
        )
    assert caught.value.messages == ["Det går inte att lämna en bedömning nu: ärendet har status ”Inkommen”."]
    assert snapshot(application) == before


def test_deciding_before_the_assessment_is_refused(anna, olle, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    assess.completeness_confirm(application=application, by=olle)
    before = snapshot(application)
    assert before[0] == "in_assessment"
    with pytest.raises(ValidationError) as caught:
        decide.decision_make(
            application=application, by=olle, outcome="approved", amount=Decimal("40000"), reasons="Bra projekt."
        )
    assert caught.value.messages == ["Det går inte att fatta beslut nu: ärendet har status ”Under bedömning”."]
    assert snapshot(application) == before


def decided(application, officer):
    """Walk a submitted case through completeness, assessment and a decision on delegation."""
    assess.completeness_confirm(application=application, by=officer)
    assess.assessment_record(
        application=application,
        by=officer,
        no_conflict=True,
        proposal="approved",
        proposed_amount=application.requested_amount,
        justification="Bra projekt.",
    )
    decide.decision_make(
        application=application,
        by=officer,
        outcome="approved",
        amount=application.requested_amount,
        reasons="Bra projekt.",
    )
    return Application.objects.get(pk=application.pk)


def test_marking_a_payment_paid_before_it_is_attested_is_refused(anna, olle, fia, fisksatra, inclusion_call):
    application = decided(submitted(inclusion_call, fisksatra, anna), olle)
    payment = application.payments.get(sequence=1)
    assert payment.status == "planned"
    before = snapshot(application)
    with pytest.raises(ValidationError) as caught:
        pay.payments_mark_paid(payment_ids=[payment.pk], by=fia)
    assert caught.value.messages == [
        f"{payment}: Det går inte att markera utbetalningen som betald nu: utbetalningen har status ”Väntar på attest”.",
        "Inget har ändrats.",
    ]
    assert snapshot(application) == before
    assert Payment.objects.get(pk=payment.pk).paid_at is None


def test_a_withheld_part_cannot_be_attested_before_the_report_is_approved(anna, olle, fia, fisksatra, inclusion_call):
    application = decided(submitted(inclusion_call, fisksatra, anna), olle)
    withheld = application.payments.get(sequence=2)
    assert withheld.status == "withheld"
    before = snapshot(application)
    with pytest.raises(ValidationError) as caught:
        pay.payments_attest(payment_ids=[withheld.pk], by=fia)
    assert "Det går inte att attestera utbetalningen nu" in caught.value.messages[0]
    assert snapshot(application) == before


def test_deciding_twice_is_refused(anna, olle, fisksatra, inclusion_call):
    application = decided(submitted(inclusion_call, fisksatra, anna), olle)
    before = snapshot(application)
    with pytest.raises(ValidationError) as caught:
        decide.decision_make(
            application=application, by=olle, outcome="approved", amount=application.requested_amount, reasons="Igen."
        )
    assert caught.value.messages == ["Det går inte att fatta beslut nu: ärendet har status ”Beviljad”."]
    assert snapshot(application) == before


def test_submitting_twice_takes_no_second_case_number(anna, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    with pytest.raises(ValidationError):
        apply.application_submit(application=application, by=anna)
    application.refresh_from_db()
    assert application.case_number.endswith("/0001")
    assert CaseNumberSeries.objects.get().last_number == 1
