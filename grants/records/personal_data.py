"""A person's register extract under GDPR article 15 (registerutdrag): everything the
municipality holds about one person, gathered as plain data that documents.personal_data
turns into a PDF/A letter and that extract_json() gives as a machine-readable file.

A person is an account (an applicant, an association's contact) or, without one, an
e-mail address: then the extract holds the organisations that give it as their contact
address, the register entries that name it or are the correspondence with those
organisations, invitations sent to it and failed sign-ins typed with it.

Every collection runs a fixed number of queries, however many cases, messages or events the
person has (tests/grants/test_personal_data.py counts them). Producing an extract is
recorded in the audit trail (personal_data_extract_record) naming who produced it for whom.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from grants import access
from grants.identity import audit
from grants.identity.models import ApiToken, Identity, SecurityEvent
from grants.models import (
    AccountChangeRequest,
    Application,
    CaseEvent,
    CaseMessage,
    Committee,
    Document,
    Invitation,
    Membership,
    Organisation,
    OrganisationClaim,
)

from .models import RegisterEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

TITLE = "Registerutdrag enligt artikel 15 i dataskyddsförordningen (GDPR)"

# The audit trail's kind for a produced extract.
EXTRACT_EVENT = SecurityEvent.Kind.PERSONAL_DATA_EXTRACT
EXTRACT_EVENT_LABEL = "Registerutdrag enligt artikel 15 GDPR"

# The purposes, the legal basis and retention, in the standard words of the extract.
PURPOSES = [
    "Handläggning av ansökningar om bidrag, beslut, utbetalning och uppföljning "
    "(myndighetsutövning och uppgift av allmänt intresse, artikel 6.1 e GDPR).",
    "Diarieföring och arkivering av allmänna handlingar enligt offentlighets- och sekretesslagen "
    "och arkivlagen (rättslig förpliktelse, artikel 6.1 c GDPR).",
    "Inloggning, behörighet och säkerhetsloggning i bidragsportalen (artikel 6.1 e GDPR).",
]
RETENTION = (
    "Uppgifterna sparas så länge de behövs för ärendet och gallras eller avidentifieras därefter enligt "
    "nämndens dokumenthanteringsplan, räknat från att ärendet avslutades. Allmänna handlingar som ska "
    "bevaras arkiveras. Kontouppgifter sparas så länge kontot finns."
)
RIGHTS = (
    "Du har rätt att begära rättelse av felaktiga uppgifter, radering eller begränsning i den mån "
    "uppgifterna inte måste bevaras enligt lag, och att klaga hos Integritetsskyddsmyndigheten (IMY)."
)


def person_find(query: str) -> list[User]:
    """The accounts a search for `query` (a user name or an e-mail address) finds: the one with
    that user name, or every account with that e-mail address."""
    query = query.strip()
    if not query:
        return []
    users = get_user_model().objects.filter(Q(username__iexact=query) | Q(email__iexact=query))
    return list(users.order_by("username", "pk")[:20])


def _name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _mask(value: str) -> str:
    """A personal identity number as the PDF shows it: everything but the last four digits hidden."""
    digits = [ch for ch in value if ch.isdigit()]
    if len(digits) < 10:
        return value  # not a personal identity number (or already masked)
    return "*" * (len(value) - 4) + value[-4:]


def _application(application: Application) -> dict[str, Any]:
    decision = getattr(application, "decision", None)
    return {
        "case_number": application.case_number,
        "programme": application.call.programme.name,
        "committee": application.call.programme.committee.name,
        "organisation": application.organisation.name,
        "title": application.title,
        "status": application.get_status_display(),
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "closed_at": application.closed_at,
        "period_start": application.period_start,
        "period_end": application.period_end,
        "requested_amount": application.requested_amount,
        "decision": None
        if decision is None
        else {
            "outcome": decision.get_outcome_display(),
            "amount": decision.amount,
            "decided_at": decision.decided_at,
            "by_committee": decision.by_committee,
            "meeting": decision.meeting.held_on if decision.meeting_id else None,
            "protocol_paragraph": decision.protocol_paragraph,
            "reasons": decision.reasons,
        },
    }


def _security_event(event: SecurityEvent) -> dict[str, Any]:
    return {
        "kind": EXTRACT_EVENT_LABEL if event.kind == EXTRACT_EVENT else event.get_kind_display(),
        "at": event.at,
        "person": _name(event.user),
        "actor": _name(event.actor),
        "identifier": event.identifier,
        "address": event.address,
        "user_agent": event.user_agent,
        "details": event.details,
    }


def _register_entry(entry: RegisterEntry) -> dict[str, Any]:
    return {
        "case_number": entry.application.case_number,
        "registered_at": entry.registered_at,
        "direction": entry.get_direction_display(),
        "counterpart": entry.counterpart,
        "counterpart_kind": entry.get_counterpart_kind_display(),
        "description": entry.description,
        "secret": entry.secret,
        "secrecy_ground": entry.secrecy_ground,
    }


def _organisation(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "kind": organisation.get_kind_display(),
        "org_number": organisation.org_number,
        "email": organisation.email,
        "phone": organisation.phone,
        "address": ", ".join(
            part for part in (organisation.street_address, organisation.postal_code, organisation.city) if part
        ),
        "board": organisation.board,
    }


def _invitation(invitation: Invitation) -> dict[str, Any]:
    return {
        "organisation": invitation.organisation.name,
        "email": invitation.email,
        "role": invitation.get_role_display(),
        "invited_by": _name(invitation.invited_by),
        "created_at": invitation.created_at,
        "accepted_at": invitation.accepted_at,
    }


def _header(*, subject: dict[str, Any], committees: list[Committee]) -> dict[str, Any]:
    return {
        "title": TITLE,
        "produced_at": timezone.now(),
        "subject": subject,
        # The controllers (personuppgiftsansvariga) and how to reach them.
        "controllers": [
            {
                "committee": c.name,
                "municipality": c.municipality,
                "address": c.address,
                "email": c.contact_email,
                "phone": c.contact_phone,
            }
            for c in committees
        ],
        "purposes": PURPOSES,
        "retention": RETENTION,
        "rights": RIGHTS,
    }


def _committees(applications: list[Application]) -> list[Committee]:
    """The committees that hold the person's data: those of their cases, or every committee
    (they share the portal) when there are none."""
    found: dict[int, Committee] = {}
    for application in applications:
        committee = application.call.programme.committee
        found.setdefault(committee.pk, committee)
    if not found:
        return list(Committee.objects.order_by("name"))
    return sorted(found.values(), key=lambda c: c.name)


def personal_data_collect(*, person: User) -> dict[str, Any]:
    """Everything held about the account `person`, in a fixed number of queries."""
    user = get_user_model().objects.select_related("applicant_settings", "confirmed_email").get(pk=person.pk)
    email = user.email.strip()
    identities = list(Identity.objects.filter(user=user).order_by("created_at", "pk"))
    memberships = list(
        Membership.objects.filter(user=user).select_related("organisation", "confirmed_by").order_by("pk")
    )
    # The cases of the organisations the person acts for: only a confirmed member sees them.
    member_of = [m.organisation_id for m in memberships if m.status == Membership.Status.CONFIRMED]
    authored_messages = CaseMessage.objects.filter(author=user).values("application_id")
    authored_documents = Document.objects.filter(author=user).values("application_id")
    applications = list(
        Application.objects.filter(
            Q(created_by=user)
            | Q(organisation__in=member_of)
            | Q(sponsor_confirmed_by=user)
            | Q(pk__in=authored_messages)
            | Q(pk__in=authored_documents)
        )
        .select_related("call__programme__committee", "organisation", "decision__meeting")
        .order_by("created_at", "pk")
    )
    case_ids = [a.pk for a in applications]
    messages = list(CaseMessage.objects.filter(author=user).select_related("application").order_by("created_at", "pk"))
    documents = list(Document.objects.filter(author=user).select_related("application").order_by("created_at", "pk"))
    naming = (
        Q(message__author=user)
        | Q(document__author=user)
        | Q(counterpart_kind=RegisterEntry.Counterpart.PRIVATE_PERSON)
    )
    if user.get_full_name():
        naming |= Q(counterpart__iexact=user.get_full_name())
    if email:
        naming |= Q(counterpart__iexact=email)
    entries = list(
        RegisterEntry.objects.filter(naming, application__in=case_ids)
        .select_related("application")
        .order_by("registered_at", "pk")
    )
    case_events = list(CaseEvent.objects.filter(actor=user).select_related("application").order_by("created_at", "pk"))
    about = Q(user=user) | Q(actor=user) | Q(identifier__iexact=user.username)
    if email:
        about |= Q(identifier__iexact=email)
    security_events = list(SecurityEvent.objects.filter(about).select_related("user", "actor").order_by("at", "pk"))
    account_requests = list(
        AccountChangeRequest.objects.filter(requested_by=user).select_related("organisation").order_by("requested_at")
    )
    claims = list(OrganisationClaim.objects.filter(claimant=user).select_related("organisation").order_by("pk"))
    invited = Q(accepted_by=user) | (Q(email__iexact=email) if email else Q(pk__in=[]))
    invitations = list(
        Invitation.objects.filter(invited).select_related("organisation", "invited_by").order_by("created_at", "pk")
    )
    tokens = list(ApiToken.objects.filter(Q(account=user) | Q(created_by=user)).select_related("role").order_by("pk"))
    by_email = list(Organisation.objects.filter(email__iexact=email).order_by("name")) if email else []

    settings_ = getattr(user, "applicant_settings", None)
    confirmed = getattr(user, "confirmed_email", None)
    return {
        "extract": _header(
            subject={"username": user.username, "name": user.get_full_name(), "email": user.email},
            committees=_committees(applications),
        ),
        "account": {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_active": user.is_active,
            "email_confirmed": None if confirmed is None else {"email": confirmed.email, "at": confirmed.confirmed_at},
        },
        "identities": [
            {
                "provider": identity.get_provider_display(),
                # The personal identity number is never stored whole: this is its masked form,
                # and key the keyed hash it is recognised by at sign-in.
                "display": identity.display,
                "display_masked": _mask(identity.display),
                "key": identity.key,
                "created_at": identity.created_at,
                "last_used_at": identity.last_used_at,
            }
            for identity in identities
        ],
        "applicant_settings": None
        if settings_ is None
        else {"language": settings_.get_language_display(), "optional_emails": settings_.optional_emails},
        "memberships": [
            {
                "organisation": m.organisation.name,
                "org_number": m.organisation.org_number,
                "role": m.get_role_display(),
                "status": m.get_status_display(),
                "confirmed_at": m.confirmed_at,
                "confirmed_by": _name(m.confirmed_by),
            }
            for m in memberships
        ],
        "organisations_by_email": [_organisation(o) for o in by_email],
        "applications": [_application(a) for a in applications],
        "messages": [
            {
                "case_number": m.application.case_number,
                "kind": m.get_kind_display(),
                "created_at": m.created_at,
                "read_at": m.read_at,
                "body": m.body,
            }
            for m in messages
        ],
        "documents": [
            {
                "case_number": d.application.case_number,
                "kind": d.get_kind_display(),
                "filename": d.filename,
                "size": d.size,
                "sha256": d.sha256,
                "created_at": d.created_at,
                "culled_at": d.culled_at,
            }
            for d in documents
        ],
        "register_entries": [_register_entry(e) for e in entries],
        "case_events": [
            {
                "case_number": e.application.case_number,
                "created_at": e.created_at,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "note": e.note,
            }
            for e in case_events
        ],
        "security_events": [_security_event(e) for e in security_events],
        "account_change_requests": [
            {
                "organisation": r.organisation.name,
                "account": r.account_label,
                "account_masked": r.masked_label,
                "status": r.get_status_display(),
                "requested_at": r.requested_at,
                "decided_at": r.decided_at,
            }
            for r in account_requests
        ],
        "organisation_claims": [
            {
                "organisation": c.organisation.name,
                "status": c.get_status_display(),
                "created_at": c.created_at,
            }
            for c in claims
        ],
        "invitations": [_invitation(i) for i in invitations],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "role": t.role.name,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
                "last_used_at": t.last_used_at,
            }
            for t in tokens
        ],
    }


def personal_data_collect_by_email(*, email: str) -> dict[str, Any]:
    """What is held about an e-mail address that has no account: the organisations that give
    it as their contact address, the register entries that name it or are the correspondence
    with those organisations, the invitations sent to it and the sign-ins typed with it."""
    email = email.strip()
    organisations = list(Organisation.objects.filter(email__iexact=email).order_by("name", "pk"))
    correspondence = Q(
        application__organisation__in=[o.pk for o in organisations],
        counterpart_kind__in=[RegisterEntry.Counterpart.ASSOCIATION, RegisterEntry.Counterpart.PRIVATE_PERSON],
    )
    entries = list(
        RegisterEntry.objects.filter(Q(counterpart__icontains=email) | correspondence)
        .select_related("application__call__programme__committee")
        .order_by("registered_at", "pk")
    )
    invitations = list(
        Invitation.objects.filter(email__iexact=email).select_related("organisation", "invited_by").order_by("pk")
    )
    security_events = list(
        SecurityEvent.objects.filter(identifier__iexact=email).select_related("user", "actor").order_by("at", "pk")
    )
    return {
        "extract": _header(
            subject={"username": "", "name": "", "email": email},
            committees=_committees([e.application for e in entries]),
        ),
        "account": None,
        "organisations_by_email": [_organisation(o) for o in organisations],
        "register_entries": [_register_entry(e) for e in entries],
        "invitations": [_invitation(i) for i in invitations],
        "security_events": [_security_event(e) for e in security_events],
    }


def extract_json(data: dict[str, Any]) -> str:
    """The extract as the machine-readable file the person gets (UTF-8, readable indentation)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def extract_summary(data: dict[str, Any]) -> list[tuple[str, int]]:
    """How many items of each kind the extract holds, for the staff page."""
    labels = [
        ("identities", "Kopplade inloggningar (e-legitimation)"),
        ("memberships", "Medlemskap i föreningar"),
        ("organisations_by_email", "Föreningar med e-postadressen som kontaktadress"),
        ("applications", "Ansökningar och ärenden"),
        ("messages", "Meddelanden i ärenden"),
        ("documents", "Inlämnade filer"),
        ("register_entries", "Diarieföringar"),
        ("case_events", "Händelser i ärenden"),
        ("security_events", "Säkerhetshändelser (inloggningar m.m.)"),
        ("account_change_requests", "Begäranden om nytt bankkonto"),
        ("organisation_claims", "Anspråk på föreningar"),
        ("invitations", "Inbjudningar"),
        ("api_tokens", "API-nycklar"),
    ]
    return [(label, len(data[key])) for key, label in labels if key in data]


def personal_data_extract_record(
    *, by: User, person: User | None = None, email: str = "", file_format: str, request: HttpRequest | None = None
) -> SecurityEvent:
    """Write to the audit trail that `by` produced an extract about `person` (or about an
    e-mail address without an account) as `file_format`. The producer must be allowed to."""
    access.require(access.may_extract_personal_data(by))
    return audit.record(
        EXTRACT_EVENT,
        request=request,
        user=person,
        actor=by,
        identifier=email if person is None else "",
        details={
            "what": EXTRACT_EVENT_LABEL,
            "format": file_format,
            "person": person.username if person is not None else "",
            "email": email if person is None else person.email,
        },
    )
