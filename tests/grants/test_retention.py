"""Retention (gallring) under the document management plan (issue 17): cases closed 1, 3 and
11 years ago and a rule "attachments: cull after 2 years" — exactly the 3- and 11-year-old
cases' files are deleted, their rows, checksums and register entries kept and the log written;
an open case, a held one, one that owes its report and one with an open repayment claim are
left alone; a dry run changes nothing; a second run does nothing."""

import datetime as dt
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from grants.files import Upload
from grants.models import Application, CaseEvent, CaseMessage, Document, FollowUpReport, RepaymentClaim
from grants.records.models import RegisterEntry, RetentionLog, RetentionRule
from grants.records.retention import (
    ANONYMISED_TEXT,
    EVENT_ACTION,
    add_years,
    latest_closing,
    retention_apply,
    retention_due,
    retention_plan,
)
from grants.services import apply, messages

from .. import factories
from ..staff import BASE

pytestmark = pytest.mark.django_db

DECISION = "KFN 2026-03-12 § 14"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def case_with_attachment(call, organisation, applicant, *, title, filename):
    """A submitted case with one attachment really stored (and its receipt)."""
    draft = factories.draft(call, organisation, applicant, title=title)
    apply.application_attach(
        application=draft,
        by=applicant,
        filename=filename,
        content_type="application/pdf",
        content=PDF + title.encode(),
    )
    return apply.application_submit(application=draft, by=applicant)


def close(application, *, years_ago, today, status=Application.Status.CLOSED, **fields):
    closed_on = add_years(today, -years_ago)
    closed_at = timezone.make_aware(dt.datetime.combine(closed_on, dt.time(10, 0)))
    Application.objects.filter(pk=application.pk).update(status=status, closed_at=closed_at, **fields)
    return Application.objects.get(pk=application.pk)


def attachment(application):
    return Document.objects.get(application=application, kind=Document.Kind.ATTACHMENT)


def stored(document):
    return default_storage.exists(document.storage_key)


@pytest.fixture
def rule(db):
    return RetentionRule.objects.create(
        subject=RetentionRule.Subject.ATTACHMENT, action=RetentionRule.Action.CULL, years=2, decision_reference=DECISION
    )


@pytest.fixture
def cases(anna, fia, fisksatra, inclusion_call, today):
    """Cases closed 1, 3 and 11 years ago, and four old ones that must be left alone."""

    def make(key, **close_args):
        application = case_with_attachment(
            inclusion_call, fisksatra, anna, title=f"Projekt {key}", filename=f"{key}.pdf"
        )
        return close(application, today=today, **close_args) if close_args else application

    made = {
        "one": make("one", years_ago=1),
        "three": make("three", years_ago=3),
        "eleven": make("eleven", years_ago=11, status=Application.Status.REJECTED),
        # Open: never closed, and one reopened (in assessment again) with an old closing date.
        "open": make("open"),
        "reopened": make("reopened", years_ago=11, status=Application.Status.IN_ASSESSMENT),
        "held": make("held", years_ago=11, retention_hold=True),
        "owes_report": make("owes_report", years_ago=11),
        "open_claim": make("open_claim", years_ago=11),
    }
    due_on = today - dt.timedelta(days=4000)
    FollowUpReport.objects.create(application=made["owes_report"], due_on=due_on)
    RepaymentClaim.objects.create(
        application=made["open_claim"], amount=Decimal("1000"), reasons="Ej genomfört.", due_on=due_on, decided_by=fia
    )
    # A report approved and a claim repaid hold nothing back.
    FollowUpReport.objects.create(application=made["three"], due_on=due_on, status=FollowUpReport.Status.APPROVED)
    RepaymentClaim.objects.create(
        application=made["three"],
        amount=Decimal("1000"),
        reasons="Del ej genomförd.",
        due_on=due_on,
        decided_by=fia,
        status=RepaymentClaim.Status.REPAID,
        repaid_amount=Decimal("1000"),
        repaid_on=due_on,
    )
    return made


def state():
    """Everything retention could change, to compare before and after."""
    return (
        sorted(Document.objects.values_list("pk", "culled_at")),
        sorted((d.pk, stored(d)) for d in Document.objects.all()),
        RetentionLog.objects.count(),
        CaseEvent.objects.filter(action=EVENT_ACTION).count(),
        sorted(CaseMessage.objects.values_list("pk", "body")),
        sorted(RegisterEntry.objects.values_list("pk", "counterpart", "anonymised_at")),
    )


# --- counting the years -----------------------------------------------------------------------


def test_years_are_calendar_years_and_29_february_reaches_28_february():
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
    assert add_years(dt.date(2025, 3, 1), -1) == dt.date(2024, 3, 1)
    assert not retention_due(dt.date(2024, 2, 29), 1, dt.date(2025, 2, 27))
    assert retention_due(dt.date(2024, 2, 29), 1, dt.date(2025, 2, 28))
    assert not retention_due(dt.date(2023, 6, 15), 2, dt.date(2025, 6, 14))
    assert retention_due(dt.date(2023, 6, 15), 2, dt.date(2025, 6, 15))


def test_the_databases_cut_off_day_agrees_with_the_calendar_every_day():
    """latest_closing (what the query uses) is exactly the last day retention_due allows."""
    start = dt.date(2023, 1, 1)
    for offset in range(6 * 366):
        today = start + dt.timedelta(days=offset)
        for years in (1, 2, 4):
            last = latest_closing(today, years)
            assert retention_due(last, years, today), (today, years)
            assert not retention_due(last + dt.timedelta(days=1), years, today), (today, years)


def test_a_case_closed_on_29_february_is_culled_on_28_february_a_year_later(anna, fisksatra, inclusion_call):
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.ATTACHMENT, action=RetentionRule.Action.CULL, years=1, decision_reference=DECISION
    )
    application = case_with_attachment(inclusion_call, fisksatra, anna, title="Skottår", filename="skottar.pdf")
    closed_at = timezone.make_aware(dt.datetime(2024, 2, 29, 23, 30))
    Application.objects.filter(pk=application.pk).update(status=Application.Status.CLOSED, closed_at=closed_at)
    assert retention_plan(today=dt.date(2025, 2, 27)) == []
    [due] = retention_plan(today=dt.date(2025, 2, 28))
    assert due.document == attachment(application)


# --- the plan, the dry run and the run ------------------------------------------------------------


def test_exactly_the_cases_closed_more_than_two_years_ago_are_culled(cases, rule, today):
    expected = [attachment(cases["three"]), attachment(cases["eleven"])]
    planned = retention_plan(today=today)
    assert sorted(p.document.pk for p in planned) == sorted(d.pk for d in expected)
    assert {(p.subject, p.action, p.rule) for p in planned} == {("attachment", "cull", rule)}

    # The dry run lists the same and changes nothing.
    before = state()
    dry = retention_apply(today=today, dry_run=True)
    assert [p.document.pk for p in dry.done] == [p.document.pk for p in planned]
    assert state() == before

    run = retention_apply(today=today)
    assert sorted(p.document.pk for p in run.done) == sorted(d.pk for d in expected) and run.failed == []
    for document in expected:
        document.refresh_from_db()
        assert document.culled_at is not None
        assert not stored(document)
        # The row, its checksum and its register entry stay.
        assert document.register_entries.count() == 1
        entry = RetentionLog.objects.get(document=document)
        assert (entry.case_number, entry.subject, entry.action, entry.what, entry.sha256, entry.decision_reference) == (
            document.application.case_number,
            "attachment",
            "cull",
            document.filename,
            document.sha256,
            DECISION,
        )
        [event] = CaseEvent.objects.filter(application=document.application, action=EVENT_ACTION)
        assert event.actor is None
        assert event.note == f"Gallrad: Bilaga till ansökan: {document.filename} (gallringsbeslut {DECISION})"
    # Nothing else: the 1-year-old case, the open, held and owing ones keep their files, and
    # every receipt (no rule for it) is kept.
    for document in Document.objects.exclude(pk__in=[d.pk for d in expected]):
        assert document.culled_at is None and stored(document), document
    assert RetentionLog.objects.count() == 2

    # A second run does nothing.
    after = state()
    again = retention_apply(today=today)
    assert again.done == [] and again.failed == []
    assert state() == after


def test_nothing_is_due_before_its_time_and_a_keep_rule_does_nothing(cases, today):
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.RECEIPT, action=RetentionRule.Action.KEEP, decision_reference="Bevaras"
    )
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.ATTACHMENT,
        action=RetentionRule.Action.CULL,
        years=12,
        decision_reference=DECISION,
    )
    assert retention_plan(today=today) == []
    [due] = retention_plan(today=add_years(today, 1))
    assert due.document == attachment(cases["eleven"])


def test_a_store_that_refuses_leaves_the_document_as_it_was_and_the_run_goes_on(cases, rule, today, monkeypatch):
    three, eleven = attachment(cases["three"]), attachment(cases["eleven"])
    delete = FileSystemStorage.delete

    def refusing(storage, name):
        if name == eleven.storage_key:
            raise PermissionError(13, "Permission denied", name)
        return delete(storage, name)

    monkeypatch.setattr(FileSystemStorage, "delete", refusing)
    run = retention_apply(today=today)
    assert [p.document.pk for p in run.done] == [three.pk]
    [(failed, reason)] = run.failed
    assert failed.document.pk == eleven.pk and "fillagringen" in reason
    eleven.refresh_from_db()
    assert eleven.culled_at is None and stored(eleven)
    assert not RetentionLog.objects.filter(document=eleven).exists()
    assert not CaseEvent.objects.filter(application=cases["eleven"], action=EVENT_ACTION).exists()
    three.refresh_from_db()
    assert three.culled_at is not None and not stored(three)

    # The next day the store answers, and the rest is done.
    monkeypatch.setattr(FileSystemStorage, "delete", delete)
    run = retention_apply(today=today)
    assert [p.document.pk for p in run.done] == [eleven.pk]
    eleven.refresh_from_db()
    assert eleven.culled_at is not None and not stored(eleven)


def test_anonymising_an_attachment_culls_the_file_and_removes_the_counterpart(cases, today):
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.ATTACHMENT,
        action=RetentionRule.Action.ANONYMISE,
        years=2,
        decision_reference=DECISION,
    )
    retention_apply(today=today)
    document = attachment(cases["three"])
    assert document.culled_at is not None and not stored(document)
    [entry] = document.register_entries.all()
    assert entry.counterpart == "" and entry.anonymised_at is not None and entry.public_counterpart == ""
    assert RetentionLog.objects.get(document=document).action == "anonymise"
    # The case's other entries (the application, its receipt) keep their counterpart.
    assert cases["three"].register_entries.exclude(document=document).exclude(counterpart="").exists()


def test_message_texts_are_anonymised_with_their_register_entries_and_history(
    anna, olle, fisksatra, inclusion_call, today
):
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.MESSAGE_TEXT,
        action=RetentionRule.Action.ANONYMISE,
        years=2,
        decision_reference=DECISION,
    )
    application = case_with_attachment(inclusion_call, fisksatra, anna, title="Meddelanden", filename="m.pdf")
    other = case_with_attachment(inclusion_call, fisksatra, anna, title="Nyare", filename="n.pdf")
    secret = "Min son Kalle har diagnos X"
    message = messages.message_send(application=application, by=anna, body=secret)
    note = messages.note_add(application=application, by=olle, body=f"Anteckning: {secret}")
    newer = messages.message_send(application=other, by=anna, body=secret)
    close(application, years_ago=3, today=today)
    close(other, years_ago=1, today=today)

    planned = retention_plan(today=today)
    assert [p.message for p in planned] == [message, note]
    assert planned[0].describe() == (
        f"{application.case_number} Meddelanden och anteckningar (text): meddelande från sökande "
        f"{timezone.localdate(message.created_at):%Y-%m-%d} (gallringsbeslut {DECISION})"
    )
    run = retention_apply(today=today)
    assert len(run.done) == 2
    text = ANONYMISED_TEXT.format(ref=DECISION)
    assert text == f"[Texten är avidentifierad enligt gallringsbeslut {DECISION}]"
    for row in (message, note):
        row.refresh_from_db()
        assert row.body == text
        assert RetentionLog.objects.get(message=row).decision_reference == DECISION
    [entry] = RegisterEntry.objects.filter(message=message)
    assert entry.counterpart == "" and entry.anonymised_at is not None
    assert entry.description == "Meddelande från sökande"  # what it was stays, not who or what it said
    history = CaseEvent.objects.filter(application=application)
    assert not [e for e in history if secret in e.note]
    assert history.filter(action=EVENT_ACTION).count() == 1
    # The newer case's message is untouched.
    newer.refresh_from_db()
    assert newer.body == secret
    assert retention_apply(today=today).done == []


def test_culling_message_texts_says_culled(anna, fisksatra, inclusion_call, today):
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.MESSAGE_TEXT,
        action=RetentionRule.Action.CULL,
        years=2,
        decision_reference=DECISION,
    )
    application = case_with_attachment(inclusion_call, fisksatra, anna, title="Meddelanden", filename="m.pdf")
    message = messages.message_send(application=application, by=anna, body="Hej")
    close(application, years_ago=3, today=today)
    retention_apply(today=today)
    message.refresh_from_db()
    assert message.body == f"[Gallrad enligt gallringsbeslut {DECISION}]"
    assert RetentionLog.objects.get(message=message).action == "cull"


# --- the daily command --------------------------------------------------------------------------


def test_the_command_lists_in_a_dry_run_and_then_culls(cases, rule, today):
    three, eleven = attachment(cases["three"]), attachment(cases["eleven"])
    expected = sorted(
        f"{d.application.case_number} Bilaga till ansökan: {d.filename} (gallringsbeslut {DECISION})"
        for d in (three, eleven)
    )
    out = StringIO()
    call_command("retention_apply", "--dry-run", "--today", today.isoformat(), stdout=out)
    lines = out.getvalue().splitlines()
    assert sorted(lines[:-1]) == [f"Skulle gallra: {line}" for line in expected]
    assert lines[-1] == (f"Torrkörning {today:%Y-%m-%d}: 2 handlingar i 2 ärenden skulle gallras eller avidentifieras.")
    assert RetentionLog.objects.count() == 0 and stored(three)

    out = StringIO()
    call_command("retention_apply", stdout=out)
    lines = out.getvalue().splitlines()
    assert sorted(lines[:-1]) == [f"Gallrade: {line}" for line in expected]
    assert lines[-1] == f"{today:%Y-%m-%d}: 2 handlingar i 2 ärenden gallrade eller avidentifierade."
    assert not stored(three) and not stored(eleven)

    out = StringIO()
    call_command("retention_apply", stdout=out)
    assert out.getvalue() == f"{today:%Y-%m-%d}: 0 handlingar i 0 ärenden gallrade eller avidentifierade.\n"


def test_the_command_counts_from_another_day_and_refuses_a_bad_one(cases, rule, today):
    out = StringIO()
    earlier = add_years(today, -5)
    call_command("retention_apply", "--dry-run", "--today", earlier.isoformat(), stdout=out)
    [line, _summary] = out.getvalue().splitlines()
    assert line.startswith(f"Skulle gallra: {cases['eleven'].case_number} ")
    with pytest.raises(CommandError, match="ÅÅÅÅ-MM-DD"):
        call_command("retention_apply", "--today", "15/6/2026")


# --- the administrator records the plan -------------------------------------------------------


@pytest.fixture
def sara(client):
    person = factories.user("sara", role="Systemförvaltare")
    person.is_staff = True
    person.save()
    client.force_login(person)
    return person


def rule_form(**overrides):
    return {"subject": "attachment", "action": "cull", "years": "2", "decision_reference": DECISION, **overrides}


def test_the_administrator_records_the_plan_and_is_told_at_the_field(client, sara):
    url = reverse("admin:records_retentionrule_add")
    assert client.get(url).status_code == 200
    response = client.post(url, rule_form(action="keep"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"years": ["Lämna fältet tomt när handlingarna bevaras."]}
    for years in ("", "0"):
        response = client.post(url, rule_form(years=years))
        assert response.context["adminform"].form.errors == {
            "years": ["Ange efter hur många år (minst 1) handlingarna gallras eller avidentifieras."]
        }
    assert not RetentionRule.objects.exists()
    assert client.post(url, rule_form()).status_code == 302
    assert client.post(url, rule_form(subject="receipt", action="keep", years="")).status_code == 302
    assert set(RetentionRule.objects.values_list("subject", "action", "years")) == {
        ("attachment", "cull", 2),
        ("receipt", "keep", None),
    }
    change = reverse("admin:records_retentionrule_change", args=[RetentionRule.objects.get(subject="attachment").pk])
    response = client.post(change, rule_form(action="anonymise", years=""))
    assert "years" in response.context["adminform"].form.errors
    assert client.get(reverse("admin:records_retentionrule_changelist")).status_code == 200


def test_the_log_is_read_only_in_the_admin(client, sara, cases, rule, today):
    retention_apply(today=today)
    entry = RetentionLog.objects.first()
    assert client.get(reverse("admin:records_retentionlog_changelist")).status_code == 200
    page = client.get(reverse("admin:records_retentionlog_change", args=[entry.pk]))
    assert page.status_code == 200 and entry.what in page.content.decode()
    assert client.get(reverse("admin:records_retentionlog_add")).status_code == 403
    response = client.post(reverse("admin:records_retentionlog_change", args=[entry.pk]), {"what": "x"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.what != "x"


# --- culled documents in the portal and on the case page ------------------------------------


def test_a_culled_document_says_so_and_its_download_is_gone(client, anna, olle, cases, rule, today):
    document = attachment(cases["three"])
    kept = attachment(cases["one"])
    retention_apply(today=today)
    document.refresh_from_db()
    culled_on = f"{timezone.localdate(document.culled_at):%Y-%m-%d}"
    url = reverse("document", args=[document.pk])
    for person in (anna, olle):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 410
        assert f"Filen {document.filename} är gallrad {culled_on}" in response.content.decode()
        assert client.get(reverse("document", args=[kept.pk])).status_code == 200

    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[cases["three"].pk])).content.decode()
    assert re.search(rf"{re.escape(document.filename)} <span class=\"muted\">Gallrad {culled_on}</span>", page)
    assert f'href="{url}"' not in page
    receipt = Document.objects.get(application=cases["three"], kind=Document.Kind.RECEIPT)
    assert f'href="{reverse("document", args=[receipt.pk])}"' in page


def test_the_case_page_shows_culled_files_without_links(client, anna, olle, fisksatra, inclusion_call, today):
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.ATTACHMENT, action=RetentionRule.Action.CULL, years=2, decision_reference=DECISION
    )
    RetentionRule.objects.create(
        subject=RetentionRule.Subject.MESSAGE_FILE,
        action=RetentionRule.Action.CULL,
        years=2,
        decision_reference=DECISION,
    )
    application = case_with_attachment(inclusion_call, fisksatra, anna, title="Gammalt", filename="budget.pdf")
    message = messages.message_send(
        application=application, by=anna, body="Här är listan.", files=[Upload("lista.pdf", "application/pdf", PDF)]
    )
    close(application, years_ago=3, today=today)
    retention_apply(today=today)
    culled = [attachment(application), message.attachments.get()]
    receipt = Document.objects.get(application=application, kind=Document.Kind.RECEIPT)

    client.force_login(olle)
    page = client.get(f"{BASE}/{application.process.pk}/").content.decode()
    for document in culled:
        culled_on = f"{timezone.localdate(document.culled_at):%Y-%m-%d}"
        assert f'{document.filename} <span class="muted">Gallrad {culled_on}</span>' in page
        assert f'href="{reverse("document", args=[document.pk])}"' not in page
    assert f'href="{reverse("document", args=[receipt.pk])}"' in page
