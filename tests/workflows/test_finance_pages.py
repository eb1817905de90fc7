"""Finance's pages as Fia uses them: the attestation queue, a payment file and its files,
paid or failed, and the bank's status report. Through HTTP, as a person would."""

import hashlib

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grants.files import StoreUnavailable
from grants.models import AttestationLimit, CaseEvent, Payment, PaymentBatch
from grants.services import pay
from workflows.process import active_task_names

from .. import factories

pytestmark = pytest.mark.django_db

LIST = reverse("finance:payments")


def kronor(text):
    """An amount as the pages show it in Swedish: 34 000,00 kr (non-breaking space)."""
    return text.replace(" ", "\xa0") + " kr"


@pytest.fixture
def granted(anna, olle, fisksatra, inclusion_call):
    return factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")


@pytest.fixture
def second(anna, otto, fisksatra, inclusion_call):
    """Another case, assessed and decided by Otto."""
    return factories.granted_case(inclusion_call, fisksatra, anna, otto, decider=otto, amount="20000", title="Simskola")


def planned(application):
    return application.payments.get(status=Payment.Status.PLANNED)


def exported(*applications, by):
    """The applications' planned payments, attested and in one payment file."""
    ids = [planned(application).pk for application in applications]
    pay.payments_attest(payment_ids=ids, by=by)
    from documents.payment_files import payment_file_create

    return payment_file_create(by=by, payment_ids=ids), ids


def page(response):
    return response.content.decode()


# --- the attestation queue ---------------------------------------------------------------


def test_fia_attests_two_payments_from_the_list(client, fia, granted, second):
    first, other = planned(granted), planned(second)
    client.force_login(fia)
    listing = page(client.get(LIST))
    assert granted.case_number in listing and second.case_number in listing
    assert kronor("34 000,00") in listing and kronor("17 000,00") in listing
    assert f'name="payments" value="{first.pk}"' in listing and f'name="payments" value="{other.pk}"' in listing
    # The case number leads to the staff case page.
    case_page = reverse("cases:grant:process_detail", args=[granted.process.pk])
    assert case_page in listing and client.get(case_page).status_code == 200
    # The withheld parts (until the follow-up report) are not in the queue.
    assert '<span class="status">Väntar på godkänd återrapport' not in listing
    assert '<option value="planned" selected>' in listing

    response = client.post(LIST, {"action": "attest", "payments": [first.pk, other.pk]})
    assert response.status_code == 302 and response["Location"] == LIST
    first.refresh_from_db()
    other.refresh_from_db()
    assert (first.status, first.attested_by, other.status, other.attested_by) == ("attested", fia, "attested", fia)
    listing = page(client.get(LIST))
    assert "2 utbetalningar attesterade, sammanlagt " + kronor("51 000,00") in listing
    assert "Inga utbetalningar i urvalet." in listing
    # The summary: what waits for a payment file, and the button that makes one.
    assert "<strong>2</strong> utbetalningar, sammanlagt" in listing and "Skapa betalfil" in listing


def test_the_two_person_rule_refuses_olle_what_he_decided(
    client, anna, olle, otto, fia, fisksatra, inclusion_call, second
):
    decided = factories.granted_case(inclusion_call, fisksatra, anna, otto, decider=olle, amount="40000")
    olle.groups.add(Group.objects.get(name="Ekonomi"))
    own, other = planned(decided), planned(second)
    client.force_login(olle)
    listing = page(client.get(LIST))
    # Marked on the page before he tries: no checkbox for his own case, and why.
    assert f'name="payments" value="{own.pk}"' not in listing
    assert "Du får inte attestera" in listing and "Du fattade beslutet i ärendet" in listing
    assert f'name="payments" value="{other.pk}"' in listing

    # A stale page, or a crafted request: the service refuses, and attests nothing at all.
    response = client.post(LIST, {"action": "attest", "payments": [own.pk, other.pk]})
    assert response.status_code == 400
    text = page(response)
    assert "Inget attesterades" in text and "tvåpersonsregeln" in text and "Inget har ändrats." in text
    assert f'value="{other.pk}" id="pay-{other.pk}" aria-label="Välj {second.case_number} del 1" checked' in text
    assert set(Payment.objects.filter(pk__in=[own.pk, other.pk]).values_list("status", flat=True)) == {"planned"}


def test_the_attestation_limit_is_marked_and_enforced(client, fia, granted):
    AttestationLimit.objects.create(user=fia, max_amount="30000")
    payment = planned(granted)
    client.force_login(fia)
    assert "över din attestgräns" in page(client.get(LIST))
    response = client.post(LIST, {"action": "attest", "payments": [payment.pk]})
    assert response.status_code == 400 and "attestgräns" in page(response)
    payment.refresh_from_db()
    assert payment.status == "planned"


def test_attesting_nothing_or_nonsense_is_refused_in_swedish(client, fia, granted):
    client.force_login(fia)
    response = client.post(LIST, {"action": "attest"})
    assert response.status_code == 400 and "Välj minst en utbetalning." in page(response)
    response = client.post(LIST, {"action": "attest", "payments": ["x"]})
    assert response.status_code == 400 and "Markeringen kunde inte läsas" in page(response)
    assert planned(granted).status == "planned"


def test_filters_search_sort_and_pages(client, fia, granted, second):
    client.force_login(fia)
    big, small = planned(granted).pk, planned(second).pk
    pay.payments_attest(payment_ids=[small], by=fia)
    # Default: the queue (planned); the status filter shows the others.
    listing = page(client.get(LIST))
    assert granted.case_number in listing and second.case_number not in listing
    listing = page(client.get(LIST, {"status": "attested"}))
    assert second.case_number in listing and granted.case_number not in listing
    assert "Attestera markerade" not in listing  # only planned payments are attested
    listing = page(client.get(LIST, {"status": "all", "q": second.case_number}))
    assert second.case_number in listing and granted.case_number not in listing
    listing = page(client.get(LIST, {"status": "all", "q": "fisksätra"}))
    assert second.case_number in listing and granted.case_number in listing
    listing = page(
        client.get(
            LIST,
            {"status": "all", "programme": granted.call.programme_id, "committee": granted.call.programme.committee_id},
        )
    )
    assert second.case_number in listing and granted.case_number in listing

    # Sorting by amount, both ways; the header link reverses it and keeps the filter.
    def row(listing, pk):
        return listing.index(f'<tr id="payment-{pk}"')

    by_amount = page(client.get(LIST, {"status": "all", "sort": "amount"}))
    assert row(by_amount, small) < row(by_amount, big)
    assert "?status=all&amp;sort=-amount" in by_amount
    by_amount = page(client.get(LIST, {"status": "all", "sort": "-amount"}))
    assert row(by_amount, big) < row(by_amount, small)
    latest_first = page(client.get(LIST, {"status": "all", "sort": "-decided"}))
    assert latest_first.count('<tr id="payment-') == 4  # with the parts withheld until the report
    assert row(latest_first, small) < row(latest_first, big)
    # Unknown values are ignored, never an error.
    for params in ({"sort": "amount; drop table"}, {"status": "nonsense"}, {"page": "x"}, {"committee": "999"}):
        assert client.get(LIST, params).status_code == 200, params


# --- payment files -----------------------------------------------------------------------


def test_an_export_with_nothing_attested_says_so(client, fia, granted):
    client.force_login(fia)
    today = timezone.localdate()
    response = client.post(reverse("finance:batch_create"), {"execution_date": today.isoformat()})
    assert response.status_code == 400
    assert "Det finns inga attesterade utbetalningar att ta med i en betalfil." in page(response)
    response = client.post(reverse("finance:batch_create"), {"execution_date": "2020-01-01"})
    assert response.status_code == 400 and "Betaldagen kan inte ligga bakåt i tiden." in page(response)
    assert not PaymentBatch.objects.exists()


def test_a_payment_file_is_made_shown_and_downloaded_checked(client, fia, granted, media_root, monkeypatch):
    payment = planned(granted)
    pay.payments_attest(payment_ids=[payment.pk], by=fia)
    client.force_login(fia)
    response = client.post(reverse("finance:batch_create"), {"execution_date": timezone.localdate().isoformat()})
    batch = PaymentBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("finance:batch", args=[batch.pk])
    detail = page(client.get(response["Location"]))
    assert f"Betalfilen {batch.reference} är skapad med 1 utbetalning" in detail
    assert granted.case_number in detail and "Bankgiro 50501055" in detail and kronor("34 000,00") in detail
    assert batch.reference in page(client.get(reverse("finance:batches")))

    download = client.get(reverse("finance:batch_file", args=[batch.pk, "pain001"]))
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == batch.pain001_sha256
    assert download["Content-Disposition"].startswith("attachment;")
    # Nothing is booked until the bank has paid: the ledger is a file of its own.
    assert client.get(reverse("finance:batch_file", args=[batch.pk, "sie"])).status_code == 404
    assert batch.reference.encode() in client.get(reverse("finance:batch_file", args=[batch.pk, "pain001"])).content
    assert client.get(reverse("finance:batch_file", args=[batch.pk, "pdf"])).status_code == 404

    # A file changed in the store is not handed out; a store that is down is said so.
    default_storage.delete(batch.pain001_key)
    default_storage.save(batch.pain001_key, ContentFile(b"<Document>annat</Document>"))
    response = client.get(reverse("finance:batch_file", args=[batch.pk, "pain001"]))
    assert response.status_code == 409 and "kontrollsumma" in page(response)

    def down(batch, kind):
        raise StoreUnavailable("store down")

    monkeypatch.setattr("documents.payment_files.batch_file", down)
    response = client.get(reverse("finance:batch_file", args=[batch.pk, "pain001"]))
    assert response.status_code == 503 and "fillagringen inte svarar" in page(response)


def test_marking_paid_moves_the_case_on(client, fia, granted):
    batch, [payment_id] = exported(granted, by=fia)
    client.force_login(fia)
    response = client.post(
        reverse("finance:batch_mark", args=[batch.pk]), {"payments": [payment_id], "outcome": "paid"}
    )
    assert response.status_code == 302
    payment = Payment.objects.get(pk=payment_id)
    batch.refresh_from_db()
    assert (payment.status, payment.paid_by, batch.status) == ("paid", fia, "settled")
    assert active_task_names(granted) == ["await_report"]
    detail = page(client.get(response["Location"]))
    assert "1 markerade som utbetalda." in detail and "Banken har gett besked om alla" in detail


def test_failed_needs_a_reason_and_goes_back_to_the_queue_with_it(client, fia, granted):
    batch, [payment_id] = exported(granted, by=fia)
    client.force_login(fia)
    url = reverse("finance:batch_mark", args=[batch.pk])
    response = client.post(url, {"payments": [payment_id], "outcome": "failed", "reason": "  "})
    assert response.status_code == 400 and "Ange varför utbetalningen misslyckades." in page(response)
    assert Payment.objects.get(pk=payment_id).status == "exported"
    response = client.post(url, {"outcome": "paid"})
    assert response.status_code == 400 and "Välj minst en utbetalning." in page(response)

    response = client.post(url, {"payments": [payment_id], "outcome": "failed", "reason": "Bankgirot är avslutat."})
    assert response.status_code == 302
    failed = Payment.objects.get(pk=payment_id)
    replacement = failed.replaced_by
    assert (failed.status, replacement.status, replacement.failure_reason) == (
        "failed",
        "planned",
        "Bankgirot är avslutat.",
    )
    assert active_task_names(granted) == ["await_payment"]
    listing = page(client.get(LIST))
    assert f'id="payment-{replacement.pk}"' in listing
    assert "Förra utbetalningen misslyckades:</strong> Bankgirot är avslutat." in listing
    # Marking it again is refused: it no longer waits for the bank.
    response = client.post(url, {"payments": [payment_id], "outcome": "paid"})
    assert response.status_code == 400 and "väntar inte längre på banken" in page(response)


def status_report(reference, rows, group="PART"):
    transactions = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>{ref}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (f"<StsRsnInf><Rsn><Cd>AC01</Cd></Rsn><AddtlInf>{reason}</AddtlInf></StsRsnInf>" if reason else "")
        + "</TxInfAndSts>"
        for ref, status, reason in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>STATUS-1</MsgId><CreDtTm>2026-03-02T10:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{reference}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>"
        f"<GrpSts>{group}</GrpSts></OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{reference}</OrgnlPmtInfId>{transactions}</OrgnlPmtInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()


def upload(content, name="pain002.xml"):
    return SimpleUploadedFile(name, content, content_type="application/xml")


def test_a_malformed_status_report_changes_nothing(client, fia, granted):
    batch, [payment_id] = exported(granted, by=fia)
    events = CaseEvent.objects.count()
    client.force_login(fia)
    url = reverse("finance:status_report", args=[batch.pk])
    for content, says in (
        (b"<Document><oops", "Statusrapporten kunde inte läsas: filen är inte giltig XML"),
        (b"", "Filen är tom, så den är ingen statusrapport."),
        (status_report("BF-ANNAN-FIL", [(f"BIDRAG-{payment_id}", "ACSC", "")]), "inte " + batch.reference),
        (status_report(batch.reference, [("BIDRAG-999999", "ACSC", "")]), "som inte finns i betalfilen"),
    ):
        response = client.post(url, {"report": upload(content)})
        assert response.status_code == 400, content
        assert says in page(response), content
    response = client.post(url, {})
    assert response.status_code == 400 and "Välj statusrapporten som ska läsas in." in page(response)
    assert Payment.objects.get(pk=payment_id).status == "exported"
    assert CaseEvent.objects.count() == events
    assert active_task_names(granted) == ["await_payment"]


def test_a_status_report_too_large_is_refused_before_it_is_read(client, fia, granted, monkeypatch):
    batch, _ = exported(granted, by=fia)
    monkeypatch.setattr("workflows.finance.STATUS_REPORT_MAX_BYTES", 100)
    client.force_login(fia)
    response = client.post(reverse("finance:status_report", args=[batch.pk]), {"report": upload(b"x" * 101)})
    assert response.status_code == 400 and "större än 5 MB" in page(response)


def test_the_status_report_marks_paid_and_failed(client, fia, granted, second):
    batch, [paid_id, failed_id] = exported(granted, second, by=fia)
    client.force_login(fia)
    report = status_report(
        batch.reference, [(f"BIDRAG-{paid_id}", "ACSC", ""), (f"BIDRAG-{failed_id}", "RJCT", "Kontot finns inte")]
    )
    response = client.post(reverse("finance:status_report", args=[batch.pk]), {"report": upload(report)})
    assert response.status_code == 302
    assert "Statusrapporten är inläst: 1 utbetalda och 1 misslyckade." in page(client.get(response["Location"]))
    assert Payment.objects.get(pk=paid_id).status == "paid"
    assert Payment.objects.get(pk=failed_id).status == "failed"
    assert active_task_names(granted) == ["await_report"]
    assert active_task_names(second) == ["await_payment"]
    assert "Kontot finns inte" in page(client.get(LIST))


# --- who may, and how -----------------------------------------------------------------------


def test_officers_and_applicants_get_403_everywhere(client, olle, anna, fia, granted):
    batch, [payment_id] = exported(granted, by=fia)
    gets = [
        LIST,
        reverse("finance:batches"),
        reverse("finance:batch", args=[batch.pk]),
        reverse("finance:batch_file", args=[batch.pk, "pain001"]),
        reverse("finance:ledger_files"),
    ]
    posts = [
        (LIST, {"action": "attest", "payments": [payment_id]}),
        (reverse("finance:batch_create"), {"execution_date": timezone.localdate().isoformat()}),
        (reverse("finance:batch_mark", args=[batch.pk]), {"payments": [payment_id], "outcome": "paid"}),
        (
            reverse("finance:status_report", args=[batch.pk]),
            {"report": upload(status_report(batch.reference, [(f"BIDRAG-{payment_id}", "ACSC", "")]))},
        ),
        (reverse("finance:ledger_files"), {}),
    ]
    for response in [client.get(url) for url in gets] + [client.post(url, data) for url, data in posts]:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for person in (olle, anna):
        client.force_login(person)
        for url in gets:
            response = client.get(url)
            assert response.status_code == 403, url
            assert "hanteras av ekonomi" in page(response)
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    assert Payment.objects.get(pk=payment_id).status == "exported"
    assert PaymentBatch.objects.count() == 1


def test_changes_are_post_only_with_the_csrf_token(fia, granted):
    payment = planned(granted)
    batch, [in_file] = exported(
        factories.granted_case(granted.call, granted.organisation, *_people(granted), amount="5000", title="Annat"),
        by=fia,
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(fia)
    assert client.post(LIST, {"action": "attest", "payments": [payment.pk]}).status_code == 403
    assert (
        client.post(
            reverse("finance:batch_mark", args=[batch.pk]), {"payments": [in_file], "outcome": "paid"}
        ).status_code
        == 403
    )
    client = Client()
    client.force_login(fia)
    # A GET never changes anything; the list's POST needs its action.
    assert client.get(LIST, {"action": "attest", "payments": [payment.pk]}).status_code == 200
    assert (
        client.get(
            reverse("finance:batch_mark", args=[batch.pk]), {"payments": [in_file], "outcome": "paid"}
        ).status_code
        == 405
    )
    assert client.get(reverse("finance:batch_create")).status_code == 405
    assert client.post(LIST, {"payments": [payment.pk]}).status_code == 400
    assert client.put(LIST).status_code == 405
    assert Payment.objects.get(pk=payment.pk).status == "planned"
    assert Payment.objects.get(pk=in_file).status == "exported"
    assert PaymentBatch.objects.count() == 1


def _people(application):
    """The applicant and the officer of a case made by factories.granted_case."""
    return application.created_by, application.assessment.officer


def test_finance_starts_at_the_payment_list(client, fia, olle):
    client.force_login(fia)
    assert client.get("/")["Location"] == LIST
    # And the staff menu leads there.
    assert client.get(reverse("ekonomi:index"))["Location"] == LIST
    menu = page(client.get("/staff/", follow=True))
    assert reverse("ekonomi:index") in menu
    client.force_login(olle)
    assert client.get("/")["Location"] == reverse("workspace:list")
    assert reverse("ekonomi:index") not in page(client.get("/staff/", follow=True))


# --- cost --------------------------------------------------------------------------------


def test_the_list_costs_the_same_whatever_its_length(
    client, fia, anna, olle, otto, fisksatra, inclusion_call, django_assert_max_num_queries
):
    """5 payments, then 60 (a full page of 50 and a second page): the same number of queries."""
    counts = []
    for made, wanted in ((0, 5), (5, 60)):
        for number in range(made, wanted):
            factories.granted_case(
                inclusion_call,
                fisksatra,
                anna,
                olle if number % 2 else otto,
                amount=str(1000 + number),
                title=f"Projekt {number}",
            )
        client.force_login(fia)
        client.get(LIST)  # the session and the user, once
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(20):
            response = client.get(LIST)
        assert response.status_code == 200
        assert page(response).count('name="payments"') == min(wanted, 50)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
