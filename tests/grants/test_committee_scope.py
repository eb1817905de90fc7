"""Staff see and handle only the cases of the committees they work for (grants.StaffScope):
the task pages and actions, the case page, documents, meetings, finance and the annual
report; all committees for those given all, none without a scope, all for a superuser. At
single sign-on the scope follows the identity provider's groups (StaffRoleMapping)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from grants import access
from grants.identity import accounts
from grants.identity.models import SecurityEvent, StaffRoleMapping
from grants.models import CommitteeMeeting, StaffScope
from grants.roles import roles_ensure
from grants.services import apply, assess

from .. import factories
from ..staff import BASE, open_task

pytestmark = pytest.mark.django_db

OUT_OF_SCOPE = "Ärendet hör till en nämnd som du inte arbetar för."


@pytest.fixture
def kfn():
    return factories.committee("KFN", "Kultur- och fritidsnämnden")


@pytest.fixture
def sn():
    return factories.committee("SN", "Socialnämnden")


def project_call(committee, slug):
    """An open call of a project grant (the inclusion programme's rules) of the committee."""
    programme = factories.programme("inkludering", committee_=committee)
    programme.slug = programme.name = slug
    programme.save()
    return factories.call(programme)


@pytest.fixture
def sn_call(sn):
    return project_call(sn, "socialprojekt")


@pytest.fixture
def kfn_call(kfn):
    return project_call(kfn, "kulturprojekt")


@pytest.fixture
def karin(kfn):
    """An officer of the culture committee only."""
    return factories.user("karin", role="Handläggare", first_name="Karin", committees=[kfn])


def submitted(call, organisation, applicant, title="Läxhjälp", attachment=None):
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=applicant,
        title=title,
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal("40000"),
        budget_lines=[("cost", "Ledararvoden", Decimal("50000"))],
    )
    if attachment:
        apply.application_attach(
            application=draft, by=applicant, filename="budget.pdf", content_type="application/pdf", content=attachment
        )
    return apply.application_submit(application=draft, by=applicant)


def task_url(application, node, action=""):
    task = open_task(application, node)
    return f"{BASE}/{task.process_id}/{node}/{task.pk}/{action + '/' if action else ''}"


def fresh(person):
    return User.objects.get(pk=person.pk)  # permissions and the scope are cached per object


# --- the rule ----------------------------------------------------------------------------------


def test_the_scope_all_some_none_and_the_superuser(anna, olle, karin, fisksatra, sn_call, kfn_call, kfn):
    sn_case, kfn_case = submitted(sn_call, fisksatra, anna), submitted(kfn_call, fisksatra, anna, "Hembygd")
    nobody = factories.user("nils", role="Handläggare")
    StaffScope.objects.filter(user=nobody).delete()
    root = User.objects.create_superuser("root", "root@example.se", "x")
    assert access.committee_scope(fresh(olle)) is None and access.committee_scope(fresh(root)) is None
    assert access.committee_scope(fresh(karin)) == {kfn.pk}
    assert access.committee_scope(fresh(nobody)) == frozenset()
    for person, sees in (
        (olle, {sn_case, kfn_case}),
        (karin, {kfn_case}),
        (nobody, set()),
        (root, {sn_case, kfn_case}),
    ):
        person = fresh(person)
        assert {case for case in (sn_case, kfn_case) if access.may_see_case(person, case)} == sees, person
    assert access.may_see_case(fresh(karin), sn_case) == access.refused(OUT_OF_SCOPE)


# --- task pages and actions ------------------------------------------------------------------


def test_an_officer_of_another_committee_cannot_open_take_or_execute_the_task(
    client, anna, olle, karin, fisksatra, sn_call, kfn_call
):
    sn_case, kfn_case = submitted(sn_call, fisksatra, anna), submitted(kfn_call, fisksatra, anna, "Hembygd")
    client.force_login(karin)
    process_page = f"{BASE}/{sn_case.process.pk}/"
    # Her own committee's case opens and can be taken: the control.
    assert client.get(f"{BASE}/{kfn_case.process.pk}/").status_code == 200
    assert client.get(task_url(kfn_case, "check_completeness")).status_code == 302
    # The social committee's case: the case page, the task page, its detail, taking it, working it.
    assert client.get(process_page).status_code == 403
    for url in (task_url(sn_case, "check_completeness"), task_url(sn_case, "check_completeness", "detail")):
        assert client.get(url).status_code == 403, url
    assert client.post(task_url(sn_case, "check_completeness", "assign")).status_code == 403
    assert open_task(sn_case, "check_completeness").owner_id is None
    # Handed to her anyway (as a manager might): she can neither work it nor give it back.
    factories.hand_task_to(sn_case, open_task(sn_case, "check_completeness").flow_task, karin)
    assert client.get(task_url(sn_case, "check_completeness", "execute")).status_code == 403
    response = client.post(task_url(sn_case, "check_completeness", "execute"), {"complete": "yes"})
    assert response.status_code == 403
    assert client.post(task_url(sn_case, "check_completeness", "unassign")).status_code == 403
    sn_case.refresh_from_db()
    assert sn_case.status == "submitted"


def test_the_services_refuse_a_case_of_another_committee(anna, karin, fisksatra, sn_call):
    case = submitted(sn_call, fisksatra, anna)
    with pytest.raises(PermissionDenied, match=OUT_OF_SCOPE):
        assess.completeness_confirm(application=case, by=fresh(karin))
    with pytest.raises(PermissionDenied, match=OUT_OF_SCOPE):
        assess.conflict_declare(application=case, by=fresh(karin), reason="Min bror sitter i styrelsen.")


def test_all_committees_and_the_superuser_open_every_case(client, anna, olle, fisksatra, sn_call):
    case = submitted(sn_call, fisksatra, anna)
    root = User.objects.create_superuser("root", "root@example.se", "x")
    for person in (olle, root):
        client.force_login(person)
        assert client.get(f"{BASE}/{case.process.pk}/").status_code == 200, person


def test_without_a_scope_no_case_opens(client, anna, fisksatra, sn_call):
    case = submitted(sn_call, fisksatra, anna)
    nobody = factories.user("nils", role="Handläggare")
    StaffScope.objects.filter(user=nobody).delete()
    client.force_login(nobody)
    assert client.get(f"{BASE}/{case.process.pk}/").status_code == 403
    assert client.post(task_url(case, "check_completeness", "assign")).status_code == 403


# --- documents -----------------------------------------------------------------------------------


def test_documents_of_another_committee_are_refused(client, anna, olle, karin, fisksatra, sn_call, pdf_bytes):
    case = submitted(sn_call, fisksatra, anna, attachment=pdf_bytes)
    document = case.documents.get(kind="attachment")
    url = reverse("document", args=[document.pk])
    client.force_login(karin)
    response = client.get(url)
    assert response.status_code == 403 and OUT_OF_SCOPE in response.content.decode()
    client.force_login(olle)
    assert client.get(url).status_code == 200


# --- meetings ------------------------------------------------------------------------------------


def test_a_decision_maker_sees_his_committees_meetings_only(client, kfn, sn):
    kurt = factories.user("kurt", role="Beslutsfattare", committees=[kfn])
    today = timezone.localdate()
    sn_meeting = CommitteeMeeting.objects.create(committee=sn, held_on=today)
    kfn_meeting = CommitteeMeeting.objects.create(committee=kfn, held_on=today)
    client.force_login(kurt)
    assert client.get(reverse("meetings:detail", args=[kfn_meeting.pk])).status_code == 200
    for name in ("detail", "progress"):
        response = client.get(reverse(f"meetings:{name}", args=[sn_meeting.pk]))
        assert response.status_code == 403, name
    assert client.post(reverse("meetings:start", args=[sn_meeting.pk])).status_code == 403
    kim = factories.user("kim", role="Beslutsfattare")
    client.force_login(kim)
    assert client.get(reverse("meetings:detail", args=[sn_meeting.pk])).status_code == 200


# --- finance -------------------------------------------------------------------------------------


@pytest.fixture
def two_payments(anna, olle, fisksatra, sn_call, kfn_call):
    sn_case = factories.granted_case(sn_call, fisksatra, anna, olle, amount="20000", title="Social läxhjälp")
    kfn_case = factories.granted_case(kfn_call, fisksatra, anna, olle, amount="30000", title="Hembygdsgården")
    return sn_case, kfn_case


def test_finance_scoped_to_a_committee_sees_and_attests_its_payments_only(client, two_payments, kfn):
    sn_case, kfn_case = two_payments
    frida = factories.user("frida", role="Ekonomi", committees=[kfn])
    client.force_login(frida)
    page = client.get(reverse("finance:payments")).content.decode()
    assert kfn_case.case_number in page and sn_case.case_number not in page
    assert 'id="betalfil"' not in page
    sn_payment = sn_case.payments.get(status="planned")
    response = client.post(reverse("finance:payments"), {"action": "attest", "payments": [sn_payment.pk]})
    assert response.status_code == 400 and OUT_OF_SCOPE in response.content.decode()
    sn_payment.refresh_from_db()
    assert sn_payment.status == "planned"
    # Payment files and ledger files hold every committee's payments: for finance working for all.
    for url in (reverse("finance:batches"), reverse("finance:ledger_files")):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("finance:batch_create"), {"execution_date": "2030-01-02"}).status_code == 403


def test_finance_for_all_committees_sees_every_payment_and_without_a_scope_none(client, two_payments, fia):
    sn_case, kfn_case = two_payments
    client.force_login(fia)
    page = client.get(reverse("finance:payments")).content.decode()
    assert kfn_case.case_number in page and sn_case.case_number in page and 'id="betalfil"' in page
    assert client.get(reverse("finance:batches")).status_code == 200
    StaffScope.objects.filter(user=fia).delete()
    client.force_login(fresh(fia))
    page = client.get(reverse("finance:payments")).content.decode()
    assert kfn_case.case_number not in page and sn_case.case_number not in page


# --- the annual report ---------------------------------------------------------------------------


def test_management_scoped_to_a_committee_reads_its_report_only(client, kfn, sn):
    lisa = factories.user("lisa", role="Ledning", committees=[kfn])
    client.force_login(lisa)
    response = client.get(reverse("reports:annual"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.cleaned_data["committee"] == kfn
    assert list(form.fields["committee"].queryset) == [kfn]
    assert client.get(reverse("reports:annual"), {"committee": sn.pk}).status_code == 400
    assert client.get(reverse("reports:csv"), {"committee": sn.pk}).status_code == 400
    lena = factories.user("lena", role="Ledning")
    client.force_login(lena)
    response = client.get(reverse("reports:annual"), {"committee": sn.pk})
    assert response.status_code == 200 and response.context["form"].cleaned_data["committee"] == sn


# --- single sign-on and the admin ----------------------------------------------------------------


def sso(groups):
    return accounts.staff_sign_in(claims={"sub": "karin-sub", "email": "karin@kommun.example", "groups": groups})


def test_single_sign_on_sets_the_scope_from_the_mappings_and_audits_a_change(settings, kfn, sn):
    settings.OIDC_STAFF_GROUPS_CLAIM = "groups"
    roles_ensure()
    officers = Group.objects.get(name="Handläggare")
    culture = StaffRoleMapping.objects.create(claim_value="kultur", group=officers)
    culture.committees.set([kfn])
    social = StaffRoleMapping.objects.create(claim_value="social", group=officers)
    social.committees.set([sn])
    StaffRoleMapping.objects.create(claim_value="ledning", group=Group.objects.get(name="Ledning"), all_committees=True)

    def scope_events():
        return [
            event.details
            for event in SecurityEvent.objects.filter(kind="role_change").order_by("pk")
            if "committees_to" in event.details
        ]

    user = sso(["kultur"])
    assert access.committee_scope(fresh(user)) == {kfn.pk}
    assert scope_events() == [{"committees_from": [], "committees_to": ["KFN"], "by": "sso"}]
    user = sso(["kultur", "social"])  # the union of her mappings
    assert access.committee_scope(fresh(user)) == {kfn.pk, sn.pk}
    sso(["kultur", "social"])  # nothing changed: nothing audited
    assert len(scope_events()) == 2
    user = sso(["kultur", "ledning"])  # any mapping with all committees gives all
    assert access.committee_scope(fresh(user)) is None
    assert scope_events()[-1] == {"committees_from": ["KFN", "SN"], "committees_to": ["alla"], "by": "sso"}


def test_mappings_without_committees_leave_the_admins_scope(settings, kfn):
    settings.OIDC_STAFF_GROUPS_CLAIM = "groups"
    roles_ensure()
    StaffRoleMapping.objects.create(claim_value="handlaggare", group=Group.objects.get(name="Handläggare"))
    user = sso(["handlaggare"])
    assert not StaffScope.objects.filter(user=user).exists()
    StaffScope.objects.create(user=user).committees.set([kfn])
    user = sso(["handlaggare"])
    assert access.committee_scope(fresh(user)) == {kfn.pk}


def test_the_admin_edits_a_scope_and_the_change_is_audited(client, karin, kfn, sn):
    admin = User.objects.create_superuser("root", "root@example.se", "x")
    client.force_login(admin)
    scope = StaffScope.objects.get(user=karin)
    url = reverse("admin:grants_staffscope_change", args=[scope.pk])
    page = client.get(url)
    assert page.status_code == 200 and "alla nämnder" in page.content.decode().lower()
    response = client.post(url, {"user": karin.pk, "committees": [kfn.pk, sn.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert access.committee_scope(fresh(karin)) == {kfn.pk, sn.pk}
    event = SecurityEvent.objects.filter(kind="role_change", user=karin).latest("pk")
    assert event.actor == admin
    assert event.details == {"committees_from": ["KFN"], "committees_to": ["KFN", "SN"], "by": "admin"}
    assert client.get(reverse("admin:identity_staffrolemapping_changelist")).status_code == 200
