"""Messages in a case: Olle the officer writes to Fisksätra IF from the case page, Anna reads and
answers in the portal, with files; every message is in the case record. Internal notes stay
with the staff. One short test per denial."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grants.files import Upload
from grants.models import CaseEvent, CaseMessage, Document
from grants.services import apply, assess
from grants.services import messages as service

from .. import factories
from ..staff import pdf_upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "Barnens namn och personnummer står i bilagan"


@pytest.fixture
def case(anna, fisksatra, inclusion_call):
    return apply.application_submit(application=factories.draft(inclusion_call, fisksatra, anna), by=anna)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def portal(pk):
    return reverse("portal:application", args=[pk])


def staff_post(client, case, kind, body, **extra):
    prefix = "meddelande" if kind == "message" else "anteckning"
    url = reverse(f"case_messages:{kind}", args=[case.pk])
    data = {f"{prefix}-body": body, **{f"{prefix}-{key}": value for key, value in extra.items()}}
    return client.post(url, data)


# --- both ways ----------------------------------------------------------------------------


def test_olle_writes_with_a_file_anna_gets_an_email_without_the_text_and_reads_it(client, case, olle, anna, commit):
    client.force_login(olle)
    with commit():
        response = staff_post(client, case, "message", SECRET, files=pdf_upload("underlag.pdf", PDF))
    assert response.status_code == 302
    message = CaseMessage.objects.get(application=case)
    assert message.from_staff and message.author == olle and message.body == SECRET
    document = Document.objects.get(message=message)
    assert document.kind == Document.Kind.MESSAGE and document.filename == "underlag.pdf"
    event = CaseEvent.objects.get(application=case, action="Meddelande till sökande")
    assert event.actor == olle and "underlag.pdf" in event.note
    assert [m.to for m in mail.outbox] == [[anna.email]]
    assert case.case_number in mail.outbox[0].subject
    assert SECRET not in mail.outbox[0].body
    assert f"/portal/ansokningar/{case.pk}/" in mail.outbox[0].body

    client.force_login(anna)
    page = client.get(portal(case.pk)).content.decode()
    assert SECRET in page and "Nytt" in page and "underlag.pdf" in page
    message.refresh_from_db()
    assert message.read_at is not None
    assert "Nytt" not in client.get(portal(case.pk)).content.decode()


def test_anna_answers_with_a_file_and_olle_sees_it_in_the_thread(client, case, olle, anna):
    assess.completeness_confirm(application=case, by=olle)
    client.force_login(anna)
    response = client.post(
        reverse("portal:message", args=[case.pk]),
        {"body": "Här kommer deltagarlistan.", "files": [pdf_upload("lista.pdf", PDF), pdf_upload("b.pdf", PDF)]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    message = CaseMessage.objects.get(application=case)
    assert not message.from_staff and message.author == anna
    assert sorted(message.attachments.values_list("filename", flat=True)) == ["b.pdf", "lista.pdf"]
    assert CaseEvent.objects.filter(application=case, action="Meddelande från sökande", actor=anna).exists()

    html = render_thread(case, olle)
    assert "Här kommer deltagarlistan." in html and "Obesvarat" in html and "lista.pdf" in html
    service.message_send(application=case, by=olle, body="Tack, vi har fått den.")
    message.refresh_from_db()
    assert message.read_at is not None  # answering is reading


def test_message_files_are_downloaded_by_the_case_people_only(client, case, olle, anna, eve):
    message = service.message_send(
        application=case, by=olle, body="Se bilagan.", files=[Upload("beslut-utkast.pdf", "application/pdf", PDF)]
    )
    document = message.attachments.get()
    url = reverse("document", args=[document.pk])
    for person, status in ((anna, 200), (olle, 200), (eve, 404)):
        client.force_login(person)
        assert client.get(url).status_code == status, person


def test_a_file_that_is_not_what_it_says_is_refused_and_nothing_is_written(case, olle):
    with pytest.raises(ValidationError):
        service.message_send(
            application=case, by=olle, body="Se bilagan.", files=[Upload("x.pdf", "application/pdf", b"MZ not a pdf")]
        )
    assert not CaseMessage.objects.exists() and not Document.objects.filter(kind="message").exists()


def test_the_email_goes_only_after_commit(case, olle):
    with pytest.raises(RuntimeError), transaction.atomic():
        service.message_send(application=case, by=olle, body="Hej!")
        raise RuntimeError("the step fails after the message")
    assert mail.outbox == [] and not CaseMessage.objects.exists()


def test_the_staff_form_goes_back_to_a_page_of_this_site_only(client, case, olle):
    client.force_login(olle)
    response = staff_post(client, case, "note", "Ringde föreningen.", next="https://evil.example/")
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    response = client.post(
        reverse("case_messages:note", args=[case.pk]),
        {"anteckning-body": "Ringde igen.", "next": "/staff/cases/grant/queue/"},
    )
    assert response["Location"] == "/staff/cases/grant/queue/#meddelanden"


def test_a_refused_message_keeps_its_text_for_the_form(client, case, olle):
    client.force_login(olle)
    response = staff_post(client, case, "message", "x" * 6000)
    assert response.status_code == 302
    assert not CaseMessage.objects.exists()
    request = RequestFactory().get("/staff/")
    request.user, request.session = olle, client.session
    html = Template("{% load case_messages %}{% case_messages application %}").render(
        Context({"application": case, "request": request})
    )
    assert "x" * 100 in html


# --- internal notes ------------------------------------------------------------------------


def test_a_note_is_never_shown_in_the_portal(client, case, olle, anna):
    client.force_login(olle)
    assert staff_post(client, case, "note", "Föreningen verkar osäker på budgeten.").status_code == 302
    note = CaseMessage.objects.get(application=case)
    assert note.kind == CaseMessage.Kind.NOTE
    assert CaseEvent.objects.filter(application=case, action="Intern anteckning").exists()
    assert "Intern anteckning – syns inte för sökande" in render_thread(case, olle)

    client.force_login(anna)
    page = client.get(portal(case.pk)).content.decode()
    assert "osäker på budgeten" not in page
    assert "Intern anteckning" not in page and "Internal note" not in page
    assert mail.outbox == []


def test_an_applicant_cannot_add_a_note(case, anna):
    with pytest.raises(PermissionDenied):
        service.note_add(application=case, by=anna, body="Hej")


# --- denials --------------------------------------------------------------------------------


def test_a_member_of_another_association_cannot_write_in_the_case(client, case, eve):
    factories.association(name="Saltsjöbadens SK", org_number="802420-1231", members=[eve])
    client.force_login(eve)
    assert client.post(reverse("portal:message", args=[case.pk]), {"body": "Hej"}).status_code == 404
    with pytest.raises(PermissionDenied):
        service.message_send(application=case, by=eve, body="Hej")
    assert not CaseMessage.objects.exists()


def test_staff_of_another_committee_cannot_read_or_write(client, case):
    social = factories.committee("SN", "Socialnämnden")
    ulla = factories.user("ulla", role="Handläggare", committees=[social])
    client.force_login(ulla)
    assert staff_post(client, case, "message", "Hej").status_code == 403
    assert staff_post(client, case, "note", "Hej").status_code == 403
    assert "Ärendet hör till en nämnd som du inte arbetar för." in render_thread(case, ulla)
    assert not CaseMessage.objects.exists()


def test_an_officer_who_declared_jav_cannot_write_or_read(client, case, olle):
    assess.completeness_confirm(application=case, by=olle)
    service.note_add(application=case, by=olle, body="Hemlig anteckning")
    assess.conflict_declare(application=case, by=olle, reason="Min dotter är med i föreningen.")
    client.force_login(olle)
    assert staff_post(client, case, "message", "Hej").status_code == 403
    assert staff_post(client, case, "note", "Hej").status_code == 403
    assert "Hemlig anteckning" not in render_thread(case, olle)


def test_anonymous_is_sent_to_sign_in(client, case):
    for url in (reverse("case_messages:message", args=[case.pk]), reverse("portal:message", args=[case.pk])):
        response = client.post(url, {"body": "Hej"})
        assert response.status_code == 302 and "logga-in" in response["Location"]
    assert not CaseMessage.objects.exists()


def test_the_applicant_cannot_use_the_staff_form(client, case, anna):
    client.force_login(anna)
    assert staff_post(client, case, "message", "Hej").status_code == 403


def test_finance_adds_notes_but_does_not_write_to_the_applicant(client, case, fia):
    client.force_login(fia)
    assert staff_post(client, case, "message", "Hej").status_code == 403
    assert staff_post(client, case, "note", "Bankgirot kontrollerat.").status_code == 302
    html = render_thread(case, fia)
    assert "Bankgirot kontrollerat." in html and "Ny intern anteckning" in html
    assert "Skriv till den sökande" not in html and "Bara handläggare och beslutsfattare" in html


def test_no_message_before_the_application_is_submitted(anna, fisksatra, inclusion_call):
    draft = factories.draft(inclusion_call, fisksatra, anna)
    with pytest.raises(PermissionDenied):
        service.message_send(application=draft, by=anna, body="Hej")


# --- a fixed number of queries --------------------------------------------------------------


def render_thread(case, user):
    request = RequestFactory().get("/staff/")
    request.user, request.session = user, SessionStore()
    return Template("{% load case_messages %}{% case_messages application %}").render(
        Context({"application": case, "request": request})
    )


def _many(case, olle, anna, count, start=0):
    for index in range(start, start + count):
        service.message_send(
            application=case, by=olle, body=f"Fråga {index}", files=[Upload(f"f{index}.pdf", "application/pdf", PDF)]
        )
        service.message_send(application=case, by=anna, body=f"Svar {index}")
        service.note_add(application=case, by=olle, body=f"Anteckning {index}")


def _count(action):
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return len(captured), result


def test_the_portal_page_costs_the_same_with_3_and_30_messages(client, case, olle, anna):
    assess.completeness_confirm(application=case, by=olle)
    client.force_login(anna)
    _many(case, olle, anna, 3)
    client.get(portal(case.pk))  # reads them: the next loads write nothing
    small, _ = _count(lambda: client.get(portal(case.pk)))
    _many(case, olle, anna, 27, start=3)
    client.get(portal(case.pk))
    large, response = _count(lambda: client.get(portal(case.pk)))
    page = response.content.decode()
    assert "Fråga 29" in page, page[page.find("meddelanden") :][:1500]
    assert "Anteckning" not in page, page[page.find("Anteckning") - 300 :][:600]
    print(f"portal case page: {small} queries with 3 exchanges, {large} with 30")
    assert large == small


def test_the_staff_thread_costs_the_same_with_3_and_30_messages(case, olle, anna):
    assess.completeness_confirm(application=case, by=olle)
    _many(case, olle, anna, 3)
    olle_fresh = type(olle).objects.get(pk=olle.pk)
    small, _ = _count(lambda: render_thread(case, olle_fresh))
    _many(case, olle, anna, 27, start=3)
    olle_fresh = type(olle).objects.get(pk=olle.pk)
    large, html = _count(lambda: render_thread(case, olle_fresh))
    assert "Anteckning 29" in html and "f29.pdf" in html
    print(f"staff thread: {small} queries with 3 exchanges, {large} with 30")
    assert large == small <= 10


def test_the_thread_asks_anonymous_to_sign_in(case):
    assert "Logga in" in render_thread(case, AnonymousUser())
