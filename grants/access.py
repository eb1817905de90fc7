"""Who may do what: every access rule of the grant system, in one place.

Each rule answers with an Answer, (allowed, reason), truthy when allowed, so that a view,
a service, a flow node and an FSM transition ask the same question and a refusal says why
in the words the person reads. Services turn a refusal into PermissionDenied with
require(); staff pages guard themselves with required().

The rules read the domain models but never change them; grants.models asks these rules
from its transitions through a lazy import, as this module imports the models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import AccountChangeRequest, Application, ConflictOfInterest, Membership, Organisation, Payment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest, HttpResponse

    Person: TypeAlias = User | AnonymousUser
    View: TypeAlias = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Answer:
    """A rule's answer: whether it allows, and if not, why (a sentence for the person refused)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Answer(True)


def refused(reason: str) -> Answer:
    return Answer(False, reason)


# The refusal that names nothing in particular: for rules whose callers know no better words,
# and for a PermissionDenied that gives no reason of its own (grants.web).
NO_PERMISSION = gettext_lazy("Du har inte behörighet att göra detta.")


def no_permission() -> str:
    """NO_PERMISSION, in the language of the request."""
    return str(NO_PERMISSION)


def require(answer: Answer, reason: str | None = None) -> None:
    """Raise PermissionDenied unless the answer allows; a service may put the refusal in the
    words of the action it guards (reason) instead of the rule's own."""
    if not answer:
        raise PermissionDenied(reason or answer.reason)


def required(rule: Callable[[Person], Answer], reason: str | None = None) -> Callable[[View], View]:
    """A view decorator: signed in, and allowed by `rule`, or 403 with `reason` (the rule's
    own reason if none is given). The one way staff pages guard themselves by role."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require(rule(request.user), reason)
            return view(request, *args, **kwargs)

        return guarded

    return decorator


# --- the person -------------------------------------------------------------------------------


def email_confirmed(user: Person) -> Answer:
    """Whether the person has shown that their e-mail address is theirs (the link sent to
    it), as acting for an association needs. Staff and administrators count as confirmed:
    the municipality made their accounts."""
    from .identity.confirmation import is_confirmed

    if is_confirmed(user) or works_in_staff_interface(user) or (user.is_authenticated and user.is_staff):
        return ALLOWED
    return refused(_("Bekräfta din e-postadress först: öppna länken vi skickade till dig."))


# --- staff roles -------------------------------------------------------------------------------
#
# Roles are Django permissions given through the groups in grants.roles.


def _has_perm(user: Person, perm: str) -> Answer:
    if user.is_authenticated and user.has_perm(perm):
        return ALLOWED
    return refused(no_permission())


def is_officer(user: Person) -> Answer:
    """A case officer (handläggare): checks, assesses and decides under delegation."""
    return _has_perm(user, "grants.handle_application")


def is_decision_maker(user: Person) -> Answer:
    """A decision maker (beslutsfattare): decides above the delegation limit, in the committee."""
    return _has_perm(user, "grants.decide_application")


def is_secretary(user: Person) -> Answer:
    """The committee's secretary (nämndsekreterare): keeps its agenda and protocol and records
    the committee's decisions taken at a meeting."""
    return _has_perm(user, "grants.keep_protocol")


def works_with_meetings(user: Person) -> Answer:
    """Who works with a committee's meetings: its secretary and its decision makers."""
    if is_secretary(user) or is_decision_maker(user):
        return ALLOWED
    return refused(no_permission())


def is_finance(user: Person) -> Answer:
    """An attester in finance: attests, exports and books payments, decides account changes."""
    return _has_perm(user, "grants.attest_payment")


def is_case_handler(user: Person) -> Answer:
    """An officer or a decision maker: the people who take part in a case and decide it."""
    if is_officer(user) or is_decision_maker(user):
        return ALLOWED
    return refused(no_permission())


def is_staff_member(user: Person) -> Answer:
    """Anyone with a case-handling role (the committee's secretary included): sees every case's
    documents and the staff interface."""
    if is_case_handler(user) or is_finance(user) or is_secretary(user):
        return ALLOWED
    return refused(no_permission())


def is_reviewer(user: Person) -> Answer:
    """A reviewer (granskare): scores the applications an officer assigns to her against the
    programme's criteria; staff, or a member of a reference group."""
    return _has_perm(user, "grants.review_application")


def is_staff_person(user: Person) -> Answer:
    """Whom the staff sessions' rules hold for (a second factor after a password, the idle and
    absolute limits): a staff role (reviewers included, who read applications), or the admin's
    is_staff or is_superuser."""
    if (user.is_authenticated and (user.is_staff or user.is_superuser)) or is_staff_member(user) or is_reviewer(user):
        return ALLOWED
    return refused(_("Tvåstegsverifiering och tidsgränserna gäller bara kommunens personal."))


def works_in_staff_interface(user: Person) -> Answer:
    """Who is sent to, and may see the flow in, the staff interface: staff and administrators."""
    if is_staff_member(user) or (user.is_authenticated and user.is_superuser):
        return ALLOWED
    return refused(no_permission())


def finance_only_role(user: Person) -> Answer:
    """Finance with no case-handling role besides: their work starts at the attestation queue."""
    if is_finance(user) and not is_case_handler(user):
        return ALLOWED
    return refused(no_permission())


def may_see_annual_report(user: Person) -> Answer:
    """Management reads the annual grant report, its exports and the selection's open data."""
    if _has_perm(user, "grants.view_annual_report"):
        return ALLOWED
    return refused("Årsrapporten om bidrag är till för ledningen.")


def may_export_archive(user: Person) -> Answer:
    """The records administrator (Systemförvaltare) takes out a closed case's archive package."""
    if _has_perm(user, "records.export_archive"):
        return ALLOWED
    return refused("Arkivpaket tas fram av systemförvaltaren.")


def management_only_role(user: Person) -> Answer:
    """Management with no staff role and no administration: their work starts at the annual report."""
    if may_see_annual_report(user) and not works_in_staff_interface(user):
        return ALLOWED
    return refused(no_permission())


# --- applicants and their organisations --------------------------------------------------------


def confirmed_member(user: Person, *, via: str = "") -> Q:
    """The rows whose organisation (reached through the lookup path `via`, itself if empty)
    has `user` as a confirmed member: what an applicant may see and act for. One filter, so
    that both conditions hold for the same membership."""
    prefix = f"{via}__" if via else ""
    return Q(**{f"{prefix}memberships__user": user, f"{prefix}memberships__status": Membership.Status.CONFIRMED})


def _is_confirmed_member(user: Person, organisation_id: int | None) -> bool:
    return (
        user.is_authenticated
        and organisation_id is not None
        and Membership.objects.filter(
            organisation_id=organisation_id, user=user, status=Membership.Status.CONFIRMED
        ).exists()
    )


def is_applicant(user: Person, application: Application) -> Answer:
    """A confirmed member of the applying organisation: acts for the application."""
    if _is_confirmed_member(user, application.organisation_id):
        return ALLOWED
    return refused(no_permission())


def is_sponsor_contact(user: Person, application: Application) -> Answer:
    """A confirmed member of the sponsor association of an informal group's application."""
    if _is_confirmed_member(user, application.organisation.sponsor_id):
        return ALLOWED
    return refused(no_permission())


def may_act_for_money(membership: Membership | None) -> Answer:
    """Only a confirmed signatory or treasurer acts for the association's money, e.g. asks
    for a new bank account."""
    if membership is None or membership.status != Membership.Status.CONFIRMED:
        return refused(_("Bara bekräftade medlemmar i föreningen kan begära ett nytt bankkonto."))
    if membership.role not in Membership.MONEY_ROLES:
        return refused(
            _(
                "Bara föreningens firmatecknare eller kassör kan begära ett nytt bankkonto. Be någon av dem "
                "att göra det, eller be föreningen ändra din roll."
            )
        )
    return ALLOWED


# The roles that lead the association in the portal: invite and confirm people, withdraw applications.
LEADING_ROLES = (Membership.Role.SIGNATORY, Membership.Role.CONTACT)


def may_manage_members(membership: Membership | None) -> Answer:
    """A confirmed signatory or contact invites people and confirms or declines those who wait."""
    if membership is None or membership.status != Membership.Status.CONFIRMED:
        return refused(_("Bara bekräftade medlemmar i föreningen kan bjuda in och bekräfta personer."))
    if membership.role not in LEADING_ROLES:
        return refused(
            _(
                "Bara föreningens firmatecknare eller kontaktperson kan bjuda in, bekräfta och avböja personer. "
                "Be någon av dem att göra det."
            )
        )
    return ALLOWED


def may_withdraw(membership: Membership | None) -> Answer:
    """A confirmed signatory or contact withdraws the association's applications; a plain
    board member prepares and submits them."""
    if membership is None or membership.status != Membership.Status.CONFIRMED:
        return refused(_("Du kan bara återta din egen förenings ansökningar."))
    if membership.role not in LEADING_ROLES:
        return refused(
            _("Bara föreningens firmatecknare eller kontaktperson kan återta en ansökan. Be någon av dem att göra det.")
        )
    return ALLOWED


def may_change_roles(membership: Membership | None) -> Answer:
    """Only a confirmed signatory, who signs for the association, changes the others' roles."""
    if membership is None or membership.status != Membership.Status.CONFIRMED:
        return refused(_("Bara bekräftade medlemmar i föreningen kan ändra roller."))
    if membership.role != Membership.Role.SIGNATORY:
        return refused(_("Bara föreningens firmatecknare kan ändra andras roller."))
    return ALLOWED


NOT_VERIFIED = gettext_lazy("Föreningen är inte verifierad av kommunen än.")


def may_submit_for(organisation: Organisation) -> Answer:
    """Applications are submitted only for a verified payee: the association itself, or an
    informal group's sponsor (whose account the money goes to). Drafts may wait."""
    if organisation.payee.verification != Organisation.Verification.VERIFIED:
        return refused(str(NOT_VERIFIED))
    return ALLOWED


def may_verify_associations(user: Person) -> Answer:
    """Officers, and the administrators (Systemförvaltare) who keep the register of
    associations, verify new associations and decide claims on registered ones."""
    if is_officer(user) or _has_perm(user, "grants.change_organisation"):
        return ALLOWED
    return refused("Föreningar verifieras av handläggare och systemförvaltare.")


def may_extract_personal_data(user: Person) -> Answer:
    """The administrators (Systemförvaltare) produce a person's register extract under GDPR
    article 15: everything held about them, across every committee."""
    if _has_perm(user, "records.extract_personal_data"):
        return ALLOWED
    return refused("Registerutdrag om en person tas fram av systemförvaltaren.")


# --- which committees' cases (StaffScope) ------------------------------------------------------


def committee_scope(user: Person) -> frozenset[int] | None:
    """The ids of the committees whose cases this staff member sees and handles, or None for
    every committee (a superuser, or a scope with "alla nämnder"). Read once per request and
    kept on the user object."""
    if not user.is_authenticated:
        return frozenset()
    if hasattr(user, "_committee_scope"):
        cached: frozenset[int] | None = user._committee_scope
        return cached
    scope: frozenset[int] | None
    if user.is_superuser:
        scope = None
    else:
        from .models import StaffScope

        row = StaffScope.objects.filter(user=user).values_list("pk", "all_committees").first()
        if row is None:
            scope = frozenset()
        elif row[1]:
            scope = None
        else:
            scope = frozenset(
                StaffScope.committees.through.objects.filter(staffscope_id=row[0]).values_list(
                    "committee_id", flat=True
                )
            )
    setattr(user, "_committee_scope", scope)  # noqa: B010 (mypy: User has no such attribute)
    return scope


def in_committees(user: Person, field: str = "committee_id") -> Q:
    """A filter for rows whose committee (the lookup `field`) this staff member works in."""
    scope = committee_scope(user)
    if scope is None:
        return Q()
    return Q(**{f"{field}__in": scope})


def in_scope(user: Person, prefix: str = "") -> Q:
    """A filter for applications (or rows reaching one through `prefix`, e.g.
    "process__grantprocess__application__") in the committees this staff member works in."""
    return in_committees(user, f"{prefix}call__programme__committee_id")


OUT_OF_SCOPE = "Ärendet hör till en nämnd som du inte arbetar för."


def may_see_case(user: Person, application: Application) -> Answer:
    """Staff see a case of a committee they work in (StaffScope); the applicant's own
    members see it in the portal, by other rules."""
    scope = committee_scope(user)
    if scope is None or application.call.programme.committee_id in scope:
        return ALLOWED
    return refused(OUT_OF_SCOPE)


def may_see_committee(user: Person, committee_id: int) -> Answer:
    """Staff see a committee's meetings (and what else belongs to a committee) where they work."""
    scope = committee_scope(user)
    if scope is None or committee_id in scope:
        return ALLOWED
    return refused("Sammanträdet hör till en nämnd som du inte arbetar för.")


def works_for_all_committees(user: Person) -> Answer:
    """What spans every committee at once, such as finance's payment files and ledger files
    (one bank file holds every committee's payments), is for staff who work for them all."""
    if user.is_authenticated and committee_scope(user) is None:
        return ALLOWED
    return refused(
        "Betalfiler och bokföringsfiler gäller alla nämnder och hanteras av ekonomer som arbetar för alla nämnder."
    )


# --- taking part in a case (jäv) ---------------------------------------------------------------


def declared_conflict(user: Person, application: Application) -> bool:
    """Whether this person declared jäv in the case. Asked by several rules on one page, so
    the answer is kept on the user object for the request; conflict_declare forgets it."""
    if not user.is_authenticated:
        return False
    known: dict[int, bool] = user.__dict__.setdefault("_declared_conflicts", {})
    if application.pk not in known:
        known[application.pk] = ConflictOfInterest.objects.filter(application=application, user=user).exists()
    return known[application.pk]


def forget_conflicts(user: Person) -> None:
    """After a declaration of jäv: the next question about it reads the database again."""
    user.__dict__.pop("_declared_conflicts", None)


def may_take_part(user: Person, application: Application) -> Answer:
    """Staff who declared jäv in the case, or who belong to the applicant, take no part in
    it: no task of the case is offered to them and no service lets them act on it. Nor do
    staff who do not work for the case's committee (may_see_case)."""
    in_scope_answer = may_see_case(user, application)
    if not in_scope_answer:
        return in_scope_answer
    if declared_conflict(user, application):
        return refused("Du har anmält jäv i ärendet och får inte delta i handläggningen.")
    if is_applicant(user, application):
        return refused("Du tillhör den sökande föreningen och får inte handlägga ärendet (jäv).")
    return ALLOWED


def may_be_reviewer(user: Person, application: Application) -> Answer:
    """Whom an officer may assign to review a case: a reviewer or a case handler who works for
    the case's committee, has not declared jäv in it and does not belong to the applicant."""
    if not (is_reviewer(user) or is_case_handler(user)):
        return refused("Bara granskare, handläggare och beslutsfattare kan granska ansökningar.")
    taking_part = may_take_part(user, application)
    if not taking_part:
        name = getattr(user, "get_full_name", lambda: "")() or user.get_username()
        return refused(f"{name} får inte granska ärendet: {taking_part.reason}")
    return ALLOWED


def may_review(user: Person, application: Application) -> Answer:
    """A reviewer reads and scores a case only when assigned to it, not conflicted (no jäv
    declared, in the review or in the case) and not a member of the applicant."""
    from .models import Review

    if not user.is_authenticated:
        return refused(no_permission())
    review = Review.objects.filter(application=application, reviewer=user).only("conflict_reason").first()
    if review is None:
        return refused("Du är inte granskare i det här ärendet.")
    if review.conflict_reason:
        return refused("Du har anmält jäv i ärendet och får inte granska det.")
    return may_take_part(user, application)


def may_read_case_details(user: Person, application: Application) -> Answer:
    """Staff who declared jäv in a case see only its case number and status from then on:
    not the application, its documents or its history."""
    if declared_conflict(user, application):
        return refused("Du har anmält jäv i ärendet och ser därför bara diarienummer och status.")
    return ALLOWED


def may_declare_conflict(user: Person) -> Answer:
    """Those who could take part in a case are the ones who declare jäv in it."""
    if is_case_handler(user):
        return ALLOWED
    return refused("Bara handläggare och beslutsfattare anmäler jäv i ett ärende.")


def may_decide(user: Person, application: Application, *, at_meeting: bool = False) -> Answer:
    """Who decides an assessed case: above the delegation limit the committee's decision
    maker, or its secretary recording the decision taken at a meeting (at_meeting); within
    it the officer; never someone who may not take part."""
    taking_part = may_take_part(user, application)
    if not taking_part:
        return taking_part
    if application.assessment.needs_committee:
        if at_meeting:
            if not is_secretary(user):
                return refused("Nämndens beslut vid ett sammanträde protokollförs av nämndsekreteraren.")
        elif not is_decision_maker(user):
            return refused("Förslaget ligger över delegationsgränsen; beslutet fattas av nämnden.")
    elif not is_officer(user):
        return refused("Beslut inom delegationen fattas av handläggaren.")
    return ALLOWED


# --- the two-person rule -----------------------------------------------------------------------


def may_attest(user: Person, payment: Payment, *, member_of: set[int]) -> Answer:
    """The two-person rule on money: the attester neither decided nor assessed the case and
    belongs to neither the applicant nor the receiving association. member_of: the ids of
    the organisations `user` is a member of (read once for many payments)."""
    application = payment.application
    seen = may_see_case(user, application)
    if not seen:
        return seen
    if payment.decided_by_id == user.pk:
        return refused(
            "Du fattade beslutet i ärendet och får därför inte attestera utbetalningen "
            "(tvåpersonsregeln). En annan attestant måste göra det."
        )
    assessment = getattr(application, "assessment", None)
    if assessment is not None and assessment.officer_id == user.pk:
        return refused(
            "Du bedömde ärendet och får därför inte attestera utbetalningen "
            "(tvåpersonsregeln). En annan attestant måste göra det."
        )
    organisation = application.organisation
    if {organisation.pk, organisation.sponsor_id} & member_of:
        return refused("Du tillhör den sökande eller mottagande föreningen och får inte attestera utbetalningen.")
    return ALLOWED


def may_decide_account_change(user: Person, request: AccountChangeRequest) -> Answer:
    """The two-person rule on accounts: finance decides a change of bank account, never the
    person who asked for it nor a member of the association."""
    if not (user.is_authenticated and is_finance(user)):
        return refused("Bankkonton godkänns av ekonomi (attestanter).")
    if request.requested_by_id == user.pk:
        return refused(
            "Du begärde ändringen själv och får därför inte godkänna eller avslå den "
            "(tvåpersonsregeln). En annan attestant måste göra det."
        )
    if Membership.objects.filter(organisation_id=request.organisation_id, user=user).exists():
        return refused(f"Du tillhör {request.organisation.name} och får inte besluta om föreningens bankkonto.")
    return ALLOWED


# --- signing in ----------------------------------------------------------------------------


def has_staff_role(user: Person) -> bool:
    """Any of the staff roles (grants/roles.py), or the admin's own flags."""
    from .roles import ROLES

    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name__in=ROLES).exists()


def may_sign_in_with_password(user: Person) -> Answer:
    """The municipality may close password sign-in: for applicants (who then use
    e-legitimation) and for staff (who then use the municipality's single sign-on)."""
    from django.conf import settings

    if has_staff_role(user):
        if not settings.STAFF_PASSWORD_LOGIN:
            return refused(_("Personal loggar in med kommunens konto, inte med lösenord."))
    elif not settings.APPLICANT_PASSWORD_LOGIN:
        return refused(_("Logga in med e-legitimation (BankID, Freja eID+)."))
    return ALLOWED
