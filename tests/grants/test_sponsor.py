"""An informal group applies with a sponsor association: the night-walking parents send their
application to Fisksätra IF, whose confirmed member Anna confirms it in the portal; only then
does it take a case number and reach the officer. Declining sends it back with a reason; no
one but the sponsor's confirmed members may read it or act on it."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from grants.models import Application, CaseEvent, CaseNumberSeries, Document, Membership, Organisation
from grants.services import apply
from workflows.models import GrantProcess
from workflows.process import active_task_names

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def nadia(db):
    return factories.user("nadia", first_name="Nadia")


@pytest.fixture
def night_walkers(nadia, fisksatra):
    group = Organisation.objects.create(
        kind=Organisation.Kind.INFORMAL_GROUP, name="Nattvandrarna i Fisksätra", sponsor=fisksatra
    )
    Membership.objects.create(user=nadia, organisation=group)
    return group


@pytest.fixture
def group_draft(nadia, night_walkers, inclusion_call):
    today = timezone.localdate()
    return apply.application_save_draft(
        call=inclusion_call,
        organisation=night_walkers,
        by=nadia,
        title="Trygga kvällar i Fisksätra",
        description="Nattvandring fredag och lördag.",
        period_start=today,
        period_end=today + dt.timedelta(days=90),
        stated_amount=Decimal("18000"),
        budget_lines=[("cost", "Västar och utbildning", Decimal("18000"))],
    )


@pytest.fixture
def awaiting(client, nadia, group_draft, django_capture_on_commit_callbacks):
    """Nadia sends the draft from the check page: it goes to the sponsor."""
    client.force_login(nadia)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:submit", args=[group_draft.pk]))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Application.objects.get(pk=group_draft.pk)


def html(response):
    return response.content.decode()


def test_the_group_sends_it_to_its_sponsor_and_it_waits_there_without_a_case(client, awaiting, nadia, anna):
    assert awaiting.status == Application.Status.AWAITING_SPONSOR and awaiting.case_number == ""
    assert not GrantProcess.objects.filter(application=awaiting).exists()
    assert CaseEvent.objects.filter(
        application=awaiting, action="Skickad till medsökaren för bekräftelse", note="Fisksätra IF"
    ).exists()
    # Fisksätra IF's confirmed members are asked by e-mail; the group is not.
    [message] = mail.outbox
    assert message.to == [anna.email] and "Nattvandrarna i Fisksätra" in message.subject
    assert "Trygga kvällar i Fisksätra" in message.body and "bekräfta" in message.body

    page = html(client.get(reverse("portal:application", args=[awaiting.pk])))
    assert "Ansökan är skickad till Fisksätra IF." in page
    assert "Fisksätra IF ska bekräfta att föreningen är medsökare" in page
    assert "Väntar på att Fisksätra IF bekräftar" in page


def test_the_sponsors_member_confirms_and_the_case_reaches_the_officer(
    client, awaiting, anna, nadia, olle, inclusion_call, django_capture_on_commit_callbacks
):
    client.force_login(anna)
    page = html(client.get(reverse("portal:index")))
    assert "Ansökningar att bekräfta som medsökare" in page and "Trygga kvällar i Fisksätra" in page
    page = html(client.get(reverse("portal:sponsor_application", args=[awaiting.pk])))
    assert "Vill ni vara medsökare?" in page and "Nattvandring fredag och lördag." in page
    assert "Bankgiro 5050-1055" in page  # the money goes to Fisksätra IF's account

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:sponsor_confirm", args=[awaiting.pk]), follow=True)
    application = Application.objects.get(pk=awaiting.pk)
    assert application.status == Application.Status.SUBMITTED
    assert application.case_number == f"KFN {timezone.localdate().year}/0001"
    assert (application.sponsor_confirmed_by, application.submitted_at) == (anna, application.sponsor_confirmed_at)
    assert f"har fått diarienummer {application.case_number}" in html(response)
    assert active_task_names(application) == ["check_completeness"]
    assert (
        GrantProcess.objects.get(application=application).task_set.filter(flow_task_type="START").get().flow_task.name
        == "sponsor_confirmed"
    )
    assert application.documents.filter(kind=Document.Kind.RECEIPT).exists()
    # The group hears that its sponsor confirmed, and gets its receipt.
    assert [m.to for m in mail.outbox] == [[nadia.email], [nadia.email]]
    assert ["bekräftad av medsökaren" in m.subject for m in mail.outbox] == [True, False]
    assert mail.outbox[1].subject.endswith("Mottagningskvitto för er ansökan")

    client.force_login(olle)
    assert application.case_number in html(client.get("/staff/cases/grant/queue/"))
    client.force_login(anna)
    assert "Ansökningar att bekräfta som medsökare" not in html(client.get(reverse("portal:index")))


def test_declining_needs_a_reason_and_sends_it_back_to_the_group_as_a_draft(
    client, awaiting, anna, nadia, django_capture_on_commit_callbacks
):
    client.force_login(anna)
    response = client.post(reverse("portal:sponsor_decline", args=[awaiting.pk]), {"reason": " "})
    assert response.status_code == 400
    assert '<a href="#id_reason">Varför avböjer ni?</a>' in html(response)
    assert Application.objects.get(pk=awaiting.pk).status == Application.Status.AWAITING_SPONSOR

    mail.outbox.clear()
    reason = "Vi kan inte ta ansvar för pengarna i sommar. Fråga gärna Tornet."
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:sponsor_decline", args=[awaiting.pk]), {"reason": reason})
    assert response.status_code == 302 and response.url == reverse("portal:index")
    application = Application.objects.get(pk=awaiting.pk)
    assert (application.status, application.case_number) == (Application.Status.DRAFT, "")
    assert CaseEvent.objects.filter(
        application=application, action="Avböjd av medsökaren", note=reason, actor=anna
    ).exists()
    [message] = mail.outbox
    assert message.to == [nadia.email] and reason in message.body
    assert not GrantProcess.objects.exists()
    # The sponsor no longer sees the group's draft; the group reads the reason and may send it again.
    assert client.get(reverse("portal:sponsor_application", args=[awaiting.pk])).status_code == 404
    client.force_login(nadia)
    page = html(client.get(reverse("portal:application", args=[awaiting.pk])))
    assert "Avböjd av medsökaren" in page and reason in page
    assert client.post(reverse("portal:submit", args=[awaiting.pk])).status_code == 302
    assert Application.objects.get(pk=awaiting.pk).status == Application.Status.AWAITING_SPONSOR


def test_only_the_sponsors_confirmed_members_may_read_confirm_or_decline(client, awaiting, nadia, eve, fisksatra):
    pending = factories.user("pelle")
    Membership.objects.create(user=pending, organisation=fisksatra, status=Membership.Status.PENDING)
    from stdnum.luhn import calc_check_digit

    factories.association(name="Eves förening", org_number="556677889" + calc_check_digit("556677889"), members=[eve])
    # Nadia is in the group but not in the sponsor; Eve has an association of her own; Pelle is
    # not yet confirmed in Fisksätra IF.
    for person in (nadia, eve, pending):
        client.force_login(person)
        assert client.get(reverse("portal:sponsor_application", args=[awaiting.pk])).status_code == 404, person
        assert client.post(reverse("portal:sponsor_confirm", args=[awaiting.pk])).status_code == 404, person
        assert (
            client.post(reverse("portal:sponsor_decline", args=[awaiting.pk]), {"reason": "Nej."}).status_code == 404
        ), person
        assert "Ansökningar att bekräfta som medsökare" not in html(client.get(reverse("portal:index")))
    application = Application.objects.get(pk=awaiting.pk)
    assert (application.status, application.case_number) == (Application.Status.AWAITING_SPONSOR, "")
    assert not GrantProcess.objects.exists()


def test_a_group_member_cannot_send_it_straight_to_the_officer(nadia, group_draft):
    with pytest.raises(ValidationError, match="skickar ansökan till sin medsökare"):
        apply.application_submit(application=group_draft, by=nadia)
    assert Application.objects.get(pk=group_draft.pk).status == Application.Status.DRAFT
    assert not GrantProcess.objects.exists() and not CaseNumberSeries.objects.filter(last_number__gt=0).exists()


def test_a_sponsor_member_who_is_also_in_the_group_confirms_by_submitting(client, anna, night_walkers, group_draft):
    night_walkers.memberships.create(user=anna)
    client.force_login(anna)
    page = html(client.get(reverse("portal:step", args=[group_draft.pk, "granska"])))
    assert "Skicka in ansökan</button>" in page
    client.post(reverse("portal:submit", args=[group_draft.pk]))
    application = Application.objects.get(pk=group_draft.pk)
    assert (application.status, application.sponsor_confirmed_by) == (Application.Status.SUBMITTED, anna)
    assert active_task_names(application) == ["check_completeness"]


def test_a_second_confirmation_finds_it_confirmed_and_starts_nothing(client, awaiting, anna, fisksatra):
    bertil = factories.user("bertil")
    fisksatra.memberships.create(user=bertil)
    apply.application_sponsor_confirm(application=awaiting, by=anna)
    client.force_login(bertil)
    response = client.post(reverse("portal:sponsor_confirm", args=[awaiting.pk]), follow=True)
    assert "Det går inte att bekräfta ansökan som medsökare nu: ärendet har status ”Inkommen”." in html(response)
    assert GrantProcess.objects.count() == 1 and CaseNumberSeries.objects.get().last_number == 1
    assert Application.objects.get(pk=awaiting.pk).sponsor_confirmed_by == anna


def test_a_closed_call_cannot_be_confirmed(client, awaiting, anna, inclusion_call):
    today = timezone.localdate()
    type(inclusion_call).objects.filter(pk=inclusion_call.pk).update(
        opens_on=today - dt.timedelta(days=60), closes_on=today - dt.timedelta(days=1)
    )
    with pytest.raises(ValidationError, match="Utlysningen stängde"):
        apply.application_sponsor_confirm(application=awaiting, by=anna)
    assert Application.objects.get(pk=awaiting.pk).status == Application.Status.AWAITING_SPONSOR
    assert not GrantProcess.objects.exists()


def test_the_group_may_withdraw_it_while_it_waits_for_the_sponsor(client, awaiting, anna, nadia):
    response = client.post(reverse("portal:withdraw", args=[awaiting.pk]), {"confirm": "on"})
    assert response.status_code == 302
    assert Application.objects.get(pk=awaiting.pk).status == Application.Status.WITHDRAWN
    client.force_login(anna)
    assert "Trygga kvällar" not in html(client.get(reverse("portal:index")))
    assert client.post(reverse("portal:sponsor_confirm", args=[awaiting.pk])).status_code == 302
    assert not GrantProcess.objects.exists()


# --- at the same moment, on PostgreSQL ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sponsor_members_confirming_at_once_start_exactly_one_case(nadia, night_walkers, fisksatra, inclusion_call):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    members = [factories.user(f"styrelse{n}") for n in range(8)]
    for person in members:
        fisksatra.memberships.create(user=person)
    today = timezone.localdate()
    application = apply.application_ask_sponsor(
        application=apply.application_save_draft(
            call=inclusion_call,
            organisation=night_walkers,
            by=nadia,
            title="Trygga kvällar",
            description="Nattvandring.",
            period_start=today,
            period_end=today + dt.timedelta(days=90),
            stated_amount=Decimal("18000"),
            budget_lines=[("cost", "Västar", Decimal("18000"))],
        ),
        by=nadia,
    )
    barrier = threading.Barrier(len(members))
    confirmed, refused, unexpected = [], [], []

    def confirm(person):
        try:
            barrier.wait(timeout=30)
            apply.application_sponsor_confirm(application=application, by=person)
            confirmed.append(person)
        except ValidationError as exc:
            refused.append(exc.messages)
        except Exception as exc:  # reported below
            unexpected.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(person,)) for person in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not unexpected, unexpected
    assert len(confirmed) == 1 and len(refused) == len(members) - 1
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED and application.sponsor_confirmed_by == confirmed[0]
    assert GrantProcess.objects.filter(application=application).count() == 1
    assert CaseNumberSeries.objects.get().last_number == 1
    assert active_task_names(application) == ["check_completeness"]
    assert CaseEvent.objects.filter(application=application, action="Bekräftad av medsökaren").count() == 1


def test_the_sponsor_reads_the_groups_attachments_but_no_one_else_does(
    client, group_draft, nadia, anna, eve, pdf_bytes
):
    apply.application_attach(
        application=group_draft,
        by=nadia,
        filename="budget.pdf",
        content_type="application/pdf",
        content=pdf_bytes,
        kind=Document.Kind.ATTACHMENT,
    )
    client.force_login(nadia)
    assert client.post(reverse("portal:submit", args=[group_draft.pk])).status_code == 302
    awaiting = Application.objects.get(pk=group_draft.pk, status=Application.Status.AWAITING_SPONSOR)
    document = awaiting.documents.get(kind=Document.Kind.ATTACHMENT)
    url = reverse("document", args=[document.pk])
    client.force_login(anna)  # a confirmed member of the sponsor, Fisksätra IF
    assert f'href="{url}"' in html(client.get(reverse("portal:sponsor_application", args=[awaiting.pk])))
    assert client.get(url).content == pdf_bytes
    client.force_login(eve)
    assert client.get(url).status_code == 404
