"""Fia follows the repayment claims (återkrav) until they are repaid: a list with what is
outstanding and what is overdue, and a claim page where she registers what comes in."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from stdnum.luhn import calc_check_digit

from grants.models import CaseEvent, RepaymentClaim
from grants.services import follow_up, repayments

from .. import factories

# The claim pages are finance's, under /staff/utbetalningar/aterkrav/ (workflows.finance.claim_urls).
pytestmark = pytest.mark.django_db

REPORT = dict(
    what_was_done="Lite träning.",
    outcome="Laget lades ned i mars.",
    own_contribution=Decimal("0"),
    cost_lines=[("Ledararvoden", Decimal("50000"), Decimal("2500"))],
)


def rejected(call, organisation, anna, olle, fia, *, reclaim="10000", title="Fisksätras läxhjälp"):
    """A case whose report Olle rejected, deciding a claim of `reclaim` kronor."""
    application = factories.report_owed(call, organisation, anna, olle, fia, title=title)
    follow_up.follow_up_submit(report=application.follow_up, by=anna, **REPORT)
    follow_up.follow_up_review(
        report=application.follow_up,
        by=olle,
        verdict="reject",
        note="Verksamheten upphörde i mars.",
        reclaim_amount=Decimal(reclaim),
    )
    return RepaymentClaim.objects.select_related("application").get(application=application)


@pytest.fixture
def claim(anna, olle, fia, fisksatra, inclusion_call):
    return rejected(inclusion_call, fisksatra, anna, olle, fia)


def claim_url(claim):
    return reverse("finance:claim", args=[claim.pk])


def page(response):
    return response.content.decode().replace("\xa0", " ").replace("\u202f", " ")


# --- the service -------------------------------------------------------------------------------


def test_a_part_then_the_rest_settles_the_claim(claim, fia, today):
    repayments.repayment_register(claim=claim, by=fia, amount=Decimal("4000"), received_on=today)
    claim.refresh_from_db()
    assert (claim.status, claim.repaid_amount, claim.outstanding) == ("open", Decimal("4000.00"), Decimal("6000.00"))

    repayments.repayment_register(claim=claim, by=fia, amount=Decimal("6000"), received_on=today)
    claim.refresh_from_db()
    assert (claim.status, claim.repaid_amount, claim.repaid_on) == ("repaid", Decimal("10000.00"), today)
    events = list(
        CaseEvent.objects.filter(application=claim.application, action="Återbetalning registrerad").values_list(
            "note", "from_state", "to_state"
        )
    )
    assert events == [
        (f"4 000,00 kr inbetalt {today:%Y-%m-%d}, kvar att betala 6 000,00 kr.", "", ""),
        (f"6 000,00 kr inbetalt {today:%Y-%m-%d}, kvar att betala 0,00 kr.", "open", "repaid"),
    ]


def test_more_than_is_outstanding_is_refused(claim, fia, today):
    repayments.repayment_register(claim=claim, by=fia, amount=Decimal("4000"), received_on=today)
    with pytest.raises(ValidationError, match="större än det som återstår att betala, 6 000,00 kr"):
        repayments.repayment_register(claim=claim, by=fia, amount=Decimal("6000.01"), received_on=today)
    claim.refresh_from_db()
    assert claim.repaid_amount == Decimal("4000.00") and claim.status == "open"


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5")])
def test_nothing_or_less_is_refused(claim, fia, today, amount):
    with pytest.raises(ValidationError, match="större än 0 kr"):
        repayments.repayment_register(claim=claim, by=fia, amount=amount, received_on=today)


def test_a_day_in_the_future_is_refused(claim, fia, today):
    with pytest.raises(ValidationError, match="framtiden"):
        repayments.repayment_register(claim=claim, by=fia, amount=Decimal("1"), received_on=today + dt.timedelta(1))


def test_a_repaid_claim_takes_nothing_more(claim, fia, today):
    repayments.repayment_register(claim=claim, by=fia, amount=Decimal("10000"), received_on=today)
    with pytest.raises(ValidationError, match="redan helt återbetalt"):
        repayments.repayment_register(claim=claim, by=fia, amount=Decimal("1"), received_on=today)


def test_only_finance_registers_repayments(claim, olle, anna, today):
    for person in (olle, anna):
        with pytest.raises(PermissionDenied):
            repayments.repayment_register(claim=claim, by=person, amount=Decimal("1"), received_on=today)
    claim.refresh_from_db()
    assert claim.repaid_amount == 0


# --- finance's pages ------------------------------------------------------------------------------


def test_fia_registers_a_part_and_then_the_rest_on_the_claim_page(client, claim, fia, today):
    client.force_login(fia)
    html = page(client.get(claim_url(claim)))
    assert claim.application.case_number in html and "10 000,00 kr" in html
    assert "Verksamheten upphörde i mars." in html and "csrfmiddlewaretoken" in html

    response = client.post(claim_url(claim), {"amount": "2500", "received_on": today.isoformat()})
    assert response.status_code == 302 and response["Location"] == claim_url(claim)
    html = page(client.get(claim_url(claim)))
    assert "2 500,00 kr registrerat" in html and "Kvar att betala: 7 500,00 kr." in html
    assert f"2 500,00 kr inbetalt {today:%Y-%m-%d}" in html

    # More than what is left is refused at the field, in Swedish; nothing changes.
    response = client.post(claim_url(claim), {"amount": "8000", "received_on": today.isoformat()})
    assert response.status_code == 400
    assert "Inget registrerades" in page(response) and "7 500,00 kr" in page(response)
    claim.refresh_from_db()
    assert claim.repaid_amount == Decimal("2500.00")

    response = client.post(claim_url(claim), {"amount": "7500", "received_on": today.isoformat()})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "repaid" and claim.repaid_on == today
    html = page(client.get(claim_url(claim)))
    assert "Återbetalt" in html and 'name="amount"' not in html


def test_a_missing_date_is_refused_at_the_field(client, claim, fia):
    client.force_login(fia)
    response = client.post(claim_url(claim), {"amount": "100", "received_on": ""})
    assert response.status_code == 400 and "Ange dagen då pengarna kom in." in page(response)


def test_the_list_shows_what_is_outstanding_and_what_is_overdue(client, claim, fia, today):
    RepaymentClaim.objects.filter(pk=claim.pk).update(due_on=today - dt.timedelta(days=1))
    repayments.repayment_register(claim=claim, by=fia, amount=Decimal("1500"), received_on=today)
    client.force_login(fia)
    html = page(client.get(reverse("finance:claims")))
    assert claim.application.case_number in html and "Fisksätra IF" in html
    assert "10 000,00 kr" in html and "1 500,00 kr" in html and "8 500,00 kr" in html
    assert "förfallen" in html and claim_url(claim) in html
    assert 'href="/staff/utbetalningar/aterkrav/"' in html or "aria-current" in html  # in finance's nav

    # Repaid claims are under their own filter.
    repayments.repayment_register(claim=claim, by=fia, amount=Decimal("8500"), received_on=today)
    assert claim.application.case_number not in page(client.get(reverse("finance:claims")))
    html = page(client.get(reverse("finance:claims") + "?status=repaid"))
    assert claim.application.case_number in html and "förfallen" not in html


def test_the_list_costs_the_same_queries_however_many_claims(client, anna, olle, fia, fisksatra, inclusion_call):
    rejected(inclusion_call, fisksatra, anna, olle, fia, title="Första")
    client.force_login(fia)
    url = reverse("finance:claims") + "?status=all"
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for number in range(3):
        other = factories.association(
            name=f"Förening {number}",
            org_number=f"80241{number}999" + calc_check_digit(f"80241{number}999"),
            members=[anna],
        )
        rejected(inclusion_call, other, anna, olle, fia, title=f"Projekt {number}")
    with CaptureQueriesContext(connection) as four:
        html = page(client.get(url))
    assert html.count('id="claim-') == 4
    assert len(four) == len(one) <= 20


def test_the_pages_are_finances_alone(client, claim, olle, anna, today):
    for person in (olle, anna):
        client.force_login(person)
        assert client.get(reverse("finance:claims")).status_code == 403
        assert client.get(claim_url(claim)).status_code == 403
        response = client.post(claim_url(claim), {"amount": "100", "received_on": today.isoformat()})
        assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.repaid_amount == 0


def test_anonymous_visitors_go_to_the_login_page(client, claim):
    response = client.get(reverse("finance:claims"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_nav_links_the_claims(client, fia):
    client.force_login(fia)
    assert reverse("finance:claims") in page(client.get(reverse("finance:payments")))


def test_a_claims_due_date_is_thirty_days_after_the_decision(claim):
    assert claim.due_on == timezone.localdate() + dt.timedelta(days=30)
