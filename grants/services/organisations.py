"""Accounts and the association's profile: a person registers once, creates or joins their
association (or an informal group with a sponsor association) and keeps its profile —
address, board, bank account, statutes and annual meeting minutes — which every
application then reuses.

Whoever creates a profile is its first confirmed member, in the role they state. Everyone
else, whether they ask to join or are invited, is pending until a confirmed signatory or
contact of the same organisation confirms them; only confirmed members see the
organisation's cases, edit its profile or get its e-mail (grants.selectors counts confirmed
memberships only). Roles decide the rest (grants.access): signatory and treasurer the bank
account, signatory and contact the people and withdrawals, the signatory the others' roles.

A new association sends its statutes and annual meeting minutes and stays unverified until
an officer verifies it (association_verify / association_refuse). Someone who registers an
organisationsnummer that already has a profile is not let in: their claim waits for the
officer (claim_accept / claim_refuse). Every membership change and verification is a row in
the audit trail (grants.identity.audit).

E-mail goes out after commit, in each recipient's chosen language when we know it.
"""

import contextlib
import datetime as dt
import enum
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mass_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import CharField, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from schwifty import IBAN

from .. import access
from ..identity import confirmation
from ..identity.audit import record
from ..identity.models import SecurityEvent
from ..models import (
    ApplicantSettings,
    ClaimFile,
    Invitation,
    Membership,
    Organisation,
    OrganisationClaim,
    OrganisationFile,
    PayeeScheme,
)
from ..validators import (
    format_orgnr,
    validate_bankgiro,
    validate_iban,
    validate_orgnr,
    validate_plusgiro,
    validate_upload,
)
from ._base import Upload, discard_file, discarded_on_failure, store_file

# An invitation's link works this long after it was sent, and once.
INVITATION_VALID_DAYS = 14
# The municipalities' association rules ask for a board of at least three (see DESIGN.md).
MIN_BOARD = 3
PROFILE_FIELDS = ("name", "email", "phone", "street_address", "postal_code", "city", "district")


class _Unchanged(enum.Enum):
    """The default of a profile field that organisation_update is not given: it stays as it is."""

    UNCHANGED = enum.auto()


UNCHANGED: Final = _Unchanged.UNCHANGED

__all__ = [
    "Upload",
    "account_create",
    "account_register",
    "email_confirmation_send",
    "organisation_create",
    "organisation_update",
    "organisation_file_add",
    "membership_request",
    "membership_confirm",
    "membership_decline",
    "membership_role_change",
    "association_verify",
    "association_refuse",
    "claim_accept",
    "claim_refuse",
    "invitation_create",
    "invitation_accept",
    "invitation_withdraw",
    "invitation_expires",
    "current_files",
    "profile_gaps",
]


# An e-mail recipient: (address, language), either of which may be missing.
Recipient = tuple[str | None, str | None]
# A profile field as organisation_update is given it.
ProfileValue = str | None | _Unchanged


# --- accounts ------------------------------------------------------------------------------


def account_create(*, name: str, email: str, password: str | None, language: str) -> User:
    """An applicant's account: the e-mail address is also the username (lower-cased, so
    that it is unique whatever the case), with their language for pages and e-mail.
    password None: an account that signs in with e-legitimation only (an unusable password).
    An address that already has an account is refused at "email": e-legitimation, whose
    person the provider has identified, uses this directly; a password registration goes
    through account_register, which does not tell. The database's unique username decides a
    race between two registrations of the same address."""
    email = email.strip()
    first_name, _space, last_name = " ".join(name.split()).partition(" ")
    User = get_user_model()
    taken = ValidationError(
        {
            "email": _("Det finns redan ett konto med e-postadressen %(email)s. Logga in med den i stället.")
            % {"email": email}
        },
        code="taken",
    )
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email.lower(), email, password, first_name=first_name[:150], last_name=last_name[:150]
            )
            ApplicantSettings.objects.create(
                user=user, language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
            )
    except IntegrityError:  # the same address registered a moment before
        raise taken
    return user


def account_register(
    *, name: str, email: str, password: str, language: str, site_url: str, next_url: str = ""
) -> User | None:
    """A new applicant's password account (account_create), whose e-mail address is then
    confirmed by the link sent to it. The form has checked the password against the
    validators. An address that already has an account gets no second one, and the answer
    does not tell (None): its owner is told by e-mail that someone tried, with the ways in.
    site_url: the portal's address, which the links start with; next_url: where the
    confirmation link leads on to."""
    try:
        with transaction.atomic():
            user = account_create(name=name, email=email, password=password, language=language)
            email_confirmation_send(user=user, site_url=site_url, next_url=next_url)
        return user
    except ValidationError:  # the address has an account
        User = get_user_model()
        # As the login does: hash the password anyway, so that the time taken does not tell.
        User().set_password(password)
        email = email.strip()
        owner = User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).first()
        if owner is not None:
            _tell_of_registration_attempt(owner, email=email, site_url=site_url)
    return None


def _tell_of_registration_attempt(owner: User, *, email: str, site_url: str) -> None:
    base = site_url.rstrip("/")
    login, reset = base + reverse("login"), base + reverse("password_reset")
    _mail_after_commit(
        [(owner.email or email, _language_of(owner))],
        lambda: (
            _("Någon försökte skapa ett konto med din e-postadress"),
            _(
                "Någon försökte nyss skapa ett konto i kommunens bidragsportal med e-postadressen %(email)s. "
                "Det finns redan ett konto med den adressen, så inget nytt konto skapades.\n\n"
                "Var det du? Logga in här:\n%(login)s\n\nHar du glömt lösenordet? Välj ett nytt här:\n%(reset)s\n\n"
                "Var det inte du kan du bortse från det här meddelandet. Ditt konto är oförändrat.\n"
            )
            % {"email": email, "login": login, "reset": reset},
        ),
    )


def email_confirmation_send(*, user: User, site_url: str, next_url: str = "") -> None:
    """Send the link that confirms the account's current e-mail address (after commit).
    next_url: where the person goes once confirmed (a checked path, or empty)."""
    link = site_url.rstrip("/") + reverse("accounts:email_confirm", args=[confirmation.confirmation_token(user)])
    if next_url:
        link += "?" + urlencode({"next": next_url})
    days = settings.EMAIL_CONFIRMATION_DAYS
    _mail_after_commit(
        [(user.email, _language_of(user))],
        lambda: (
            _("Bekräfta din e-postadress i bidragsportalen"),
            _(
                "Välkommen till kommunens bidragsportal! Öppna länken för att bekräfta att %(email)s är din "
                "e-postadress. Sedan kan du skapa din förenings profil och söka bidrag.\n\n%(link)s\n\n"
                "Länken gäller i %(days)s dagar och kan användas en gång. Har du inte skapat något konto kan du "
                "bortse från det här meddelandet.\n"
            )
            % {"email": user.email, "link": link, "days": days},
        ),
    )


# --- reading the profile -------------------------------------------------------------------


def current_files(organisation: Organisation) -> dict[str, OrganisationFile]:
    """The newest file of each kind, {kind: OrganisationFile}: a new upload replaces the
    previous one as the current, while the earlier rows stay as they were."""
    current: dict[str, OrganisationFile] = {}
    for row in organisation.files.all():  # ordered by kind, newest first
        current.setdefault(row.kind, row)
    return current


def profile_gaps(organisation: Organisation, files: Mapping[str, OrganisationFile] | None = None) -> list[str]:
    """What the profile still lacks before an application can rely on it, as sentences."""
    files = current_files(organisation) if files is None else files
    gaps = []
    if not (organisation.street_address and organisation.postal_code and organisation.city):
        gaps.append(_("Postadress (utdelningsadress, postnummer och postort)."))
    if not organisation.email:
        gaps.append(_("E-postadress."))
    if organisation.kind == Organisation.Kind.ASSOCIATION:
        if len(organisation.board) < MIN_BOARD:
            gaps.append(_("Styrelsen: minst %(count)s personer.") % {"count": MIN_BOARD})
        if organisation.account() is None and not organisation.account_requests.filter(status="pending").exists():
            gaps.append(_("Bankgiro, plusgiro eller IBAN i föreningens namn."))
        if OrganisationFile.Kind.STATUTES not in files:
            gaps.append(_("Stadgar."))
        if OrganisationFile.Kind.MINUTES not in files:
            gaps.append(_("Senaste årsmötesprotokollet."))
    return gaps


# --- helpers ---------------------------------------------------------------------------------


def _orgnr(value: str | None, *, field: str) -> str:
    """The organisationsnummer checked and written as NNNNNN-NNNN, or a ValidationError at `field`."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("Skriv organisationsnumret, till exempel 802412-1231.")})
    try:
        validate_orgnr(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages})
    return format_orgnr(value)


def _association_by_orgnr(number: str) -> Organisation | None:
    """The registered association with this (checked) organisationsnummer, or None. Older
    rows may have been stored without the hyphen."""
    return Organisation.objects.filter(
        kind=Organisation.Kind.ASSOCIATION, org_number__in={number, number.replace("-", "")}
    ).first()


def _is_confirmed(organisation: Organisation, user: User | AnonymousUser) -> bool:
    return (
        user.is_authenticated
        and Membership.objects.filter(organisation=organisation, user=user, status=Membership.Status.CONFIRMED).exists()
    )


def _check_confirmed(organisation: Organisation, by: User | AnonymousUser, what: str) -> None:
    """`what` completes "Bara bekräftade medlemmar i föreningen kan …"."""
    if not _is_confirmed(organisation, by):
        raise PermissionDenied(
            _("Bara bekräftade medlemmar i %(name)s kan %(what)s.") % {"name": organisation.name, "what": what}
        )


def _audit_membership(membership: Membership, *, by: User, change: str, before: str | None) -> None:
    """The audit row of a membership change: who did it, to whom, in which organisation,
    from what (None when it is new) to what ("removed" when it goes). change names it:
    created, requested, confirmed, declined, role, removed."""
    after = "removed" if change in ("declined", "removed") else f"{membership.status}:{membership.role}"
    record(
        SecurityEvent.Kind.MEMBERSHIP_CHANGE,
        user=membership.user,
        actor=by,
        details={
            "organisation": membership.organisation.org_number or membership.organisation.name,
            "change": change,
            "from": before,
            "to": after,
        },
    )


def _state(membership: Membership) -> str:
    return f"{membership.status}:{membership.role}"


def _membership_of(organisation: Organisation, user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(organisation=organisation, user=user).first()


def _language_of(user: User) -> str:
    try:
        return user.applicant_settings.language
    except ApplicantSettings.DoesNotExist:
        return settings.LANGUAGE_CODE


def _mail_after_commit(recipients: Iterable[Recipient], compose: Callable[[], tuple[str, str]]) -> None:
    """recipients: [(address, language)]; compose() gives (subject, body) in the language
    active while it runs."""
    messages = []
    for address, language in recipients:
        if not address:
            continue
        with translation.override(language or settings.LANGUAGE_CODE):
            subject, body = compose()
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [address]))
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def _confirmed_recipients(organisation: Organisation, *, exclude: User | None = None) -> list[Recipient]:
    rows = (
        Membership.objects.filter(organisation=organisation, status=Membership.Status.CONFIRMED)
        .exclude(user=exclude)
        .values_list("user__email", "user__applicant_settings__language")
    )
    return list(rows)


def _display_name(user: User) -> str:
    return user.get_full_name() or user.email or user.get_username()


def _footer() -> str:
    return _("Logga in i bidragsportalen och öppna Min förening för att se föreningen.")


# --- creating and editing the profile -----------------------------------------------------------


def organisation_create(
    *,
    by: User | AnonymousUser,
    kind: str,
    name: str | None,
    org_number: str = "",
    sponsor_org_number: str = "",
    role: str = Membership.Role.CONTACT,
    evidence: Mapping[str, Upload] | None = None,
) -> Organisation | OrganisationClaim:
    """A new association (with its organisationsnummer, which no other profile may have) or
    informal group (with a sponsor: a registered association found by its organisationsnummer).
    The person who creates it becomes a confirmed member in the role they state.

    An association needs its evidence, {OrganisationFile.Kind: Upload}: the statutes and the
    latest annual meeting minutes; it starts unverified. If its organisationsnummer already
    has a profile, the person is not let in: a claim with the evidence is recorded for the
    officer and returned instead of the organisation."""
    if not by.is_authenticated:
        raise PermissionDenied(_("Logga in för att skapa en profil."))
    access.require(access.email_confirmed(by))
    if role not in Membership.Role.values:
        raise ValidationError({"role": [_("Välj en roll.")]})
    name = " ".join((name or "").split())
    errors: dict[str, list[str]] = {}
    number, sponsor, taken = "", None, None
    checked: list[tuple[str, Upload, str]] = []
    if kind == Organisation.Kind.ASSOCIATION:
        if not name:
            errors["name"] = [_("Skriv föreningens namn.")]
        if role not in access.LEADING_ROLES:
            errors["role"] = [_("Den som registrerar föreningen ska vara dess firmatecknare eller kontaktperson.")]
        try:
            number = _orgnr(org_number, field="org_number")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            taken = _association_by_orgnr(number)
        try:
            checked = _check_evidence(evidence or {})
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif kind == Organisation.Kind.INFORMAL_GROUP:
        if not name:
            errors["name"] = [_("Skriv gruppens namn.")]
        try:
            sponsor_number = _orgnr(sponsor_org_number, field="sponsor_org_number")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            sponsor = _association_by_orgnr(sponsor_number)
            if sponsor is None:
                errors["sponsor_org_number"] = [
                    _(
                        "Det finns ingen registrerad förening med organisationsnumret %(number)s i portalen. "
                        "Be föreningen som ska vara medsökare att skapa sin profil först."
                    )
                    % {"number": sponsor_number}
                ]
    else:
        raise ValidationError(_("Välj om det är en förening eller en grupp utan organisationsnummer."))
    if errors:
        raise ValidationError(errors)
    if taken is not None:
        return _claim_record(organisation=taken, by=by, name=name, role=role, checked=checked)
    stored = _store_evidence(checked, under="organisations/new")
    try:
        with _discarded_on_failure(stored), transaction.atomic():
            organisation = Organisation(kind=kind, name=name[:200], org_number=number, sponsor=sponsor)
            if kind == Organisation.Kind.ASSOCIATION:
                organisation.verification = Organisation.Verification.UNVERIFIED
            organisation.save()
            membership = Membership.objects.create(
                user=by,
                organisation=organisation,
                role=role,
                status=Membership.Status.CONFIRMED,
                confirmed_at=timezone.now(),
            )
            _audit_membership(membership, by=by, change="created", before=None)
            for file_kind, filename, content_type, (key, digest) in stored:
                OrganisationFile.objects.create(
                    organisation=organisation,
                    kind=file_kind,
                    filename=filename,
                    content_type=content_type,
                    storage_key=key,
                    sha256=digest,
                    uploaded_by=by,
                )
            if sponsor is not None:
                _mail_after_commit(
                    _confirmed_recipients(sponsor),
                    lambda: (
                        _("%(group)s har angett %(sponsor)s som medsökare") % {"group": name, "sponsor": sponsor.name},
                        _(
                            "Gruppen %(group)s, utan eget organisationsnummer, har skapat en profil i kommunens "
                            "bidragsportal och angett %(sponsor)s som medsökande förening. När gruppen skickar in en "
                            "ansökan behöver någon av er bekräfta den innan den går till handläggaren.\n\n%(footer)s\n"
                        )
                        % {"group": name, "sponsor": sponsor.name, "footer": _footer()},
                    ),
                )
    except IntegrityError:
        # Someone registered the same number a moment before us: that profile is now taken,
        # and this registration becomes a claim on it like any other.
        taken = _association_by_orgnr(number)
        if taken is None:
            raise
        return _claim_record(organisation=taken, by=by, name=name, role=role, checked=checked)
    return organisation


# The evidence an association sends: its statutes and its latest annual meeting minutes.
EVIDENCE_KINDS = (OrganisationFile.Kind.STATUTES.value, OrganisationFile.Kind.MINUTES.value)
# Evidence as stored: (kind, filename, content type, (storage key, sha256)).
StoredEvidence = list[tuple[str, str, str, tuple[str, str]]]


def _check_evidence(evidence: Mapping[str, Upload]) -> list[tuple[str, Upload, str]]:
    """Both kinds of evidence, each checked (type, size, first bytes): [(kind, upload, content type)].
    A missing or bad file is a ValidationError at the field named after its kind."""
    errors: dict[str, list[str]] = {}
    checked = []
    for kind in EVIDENCE_KINDS:
        upload = evidence.get(kind)
        if upload is None or not upload.content:
            errors[kind] = [
                _("Ladda upp föreningens stadgar.")
                if kind == OrganisationFile.Kind.STATUTES
                else _("Ladda upp det senaste årsmötesprotokollet, där styrelsen och firmatecknarna står.")
            ]
            continue
        try:
            content_type = validate_upload(
                ContentFile(upload.content, name=upload.filename), max_mb=settings.GRANTS_UPLOAD_MAX_MB
            )
        except ValidationError as exc:
            errors[kind] = exc.messages
            continue
        checked.append((kind, upload, content_type))
    if errors:
        raise ValidationError(errors)
    return checked


def _short_filename(filename: str) -> str:
    stem, extension = os.path.splitext(filename)
    return filename if len(filename) <= 200 else stem[: 200 - len(extension)] + extension


def _store_evidence(checked: Iterable[tuple[str, Upload, str]], *, under: str) -> StoredEvidence:
    """Store the checked files outside the transaction (uploads are slow); if one fails, those
    stored before it go again."""
    stored: StoredEvidence = []
    try:
        for kind, upload, content_type in checked:
            filename = _short_filename(upload.filename)
            saved = store_file(folder=kind, filename=filename, content=upload.content, under=under)
            stored.append((kind, filename, content_type, saved))
    except BaseException:
        for *_rest, saved in stored:
            discard_file(saved[0])
        raise
    return stored


@contextlib.contextmanager
def _discarded_on_failure(stored: StoredEvidence) -> Iterator[None]:
    """discarded_on_failure for several files at once."""
    with contextlib.ExitStack() as stack:
        for *_rest, saved in stored:
            stack.enter_context(discarded_on_failure(saved))
        yield


def _claim_record(
    *, organisation: Organisation, by: User, name: str, role: str, checked: list[tuple[str, Upload, str]]
) -> OrganisationClaim:
    """The claim of someone who registered an organisationsnummer that already has a profile:
    no membership, the evidence kept for the officer, an audit row. A second registration by
    the same person while the first waits adds nothing new but is answered the same way."""
    pending = OrganisationClaim.objects.filter(
        organisation=organisation, claimant=by, status=OrganisationClaim.Status.PENDING
    ).first()
    if pending is not None:
        return pending
    stored = _store_evidence(checked, under=f"organisations/{organisation.pk}/claims")
    try:
        with _discarded_on_failure(stored), transaction.atomic():
            claim = OrganisationClaim.objects.create(organisation=organisation, claimant=by, name=name[:200], role=role)
            for kind, filename, content_type, (key, digest) in stored:
                ClaimFile.objects.create(
                    claim=claim, kind=kind, filename=filename, content_type=content_type, storage_key=key, sha256=digest
                )
            record(
                SecurityEvent.Kind.ASSOCIATION_CLAIMED,
                user=by,
                details={"organisation": organisation.org_number, "name": name, "role": role, "claim": claim.pk},
            )
    except IntegrityError:  # the same person, in another tab, a moment before
        return OrganisationClaim.objects.get(
            organisation=organisation, claimant=by, status=OrganisationClaim.Status.PENDING
        )
    return claim


def _clean_board(board: Iterable[Mapping[str, object]] | None, *, kind: str) -> list[dict[str, str]]:
    """The board as [{"name", "role"}], blank rows left out; an association needs MIN_BOARD."""
    rows: list[dict[str, str]] = []
    errors: list[str] = []
    for index, row in enumerate(board or [], start=1):
        person = " ".join(str(row.get("name", "")).split())
        role = " ".join(str(row.get("role", "")).split())
        if not person and not role:
            continue
        if not person:
            errors.append(_("Rad %(row)s: skriv personens namn.") % {"row": index})
            continue
        if not role:
            errors.append(
                _("Rad %(row)s: skriv %(name)ss roll i styrelsen, till exempel ledamot.")
                % {"row": index, "name": person}
            )
            continue
        rows.append({"name": person[:200], "role": role[:100]})
    if not errors and kind == Organisation.Kind.ASSOCIATION and len(rows) < MIN_BOARD:
        errors.append(
            _("En förening behöver en styrelse med minst %(min)s personer. Ni har angett %(count)s.")
            % {"min": MIN_BOARD, "count": len(rows)}
        )
    if errors:
        raise ValidationError({"board": errors})
    return rows


ACCOUNT_VALIDATORS: dict[str, Callable[[str], None]] = {
    PayeeScheme.BANKGIRO: validate_bankgiro,
    PayeeScheme.PLUSGIRO: validate_plusgiro,
    PayeeScheme.IBAN: validate_iban,
}


def _clean_account(bank_account: tuple[str, str | None], *, organisation: Organisation) -> dict[str, str]:
    """(scheme, number) checked with the model's validators and written the usual way;
    returns the values of the three account fields (only the chosen one set)."""
    if organisation.kind != Organisation.Kind.ASSOCIATION:
        raise ValidationError(
            {
                "account_number": [
                    _(
                        "En grupp utan organisationsnummer har inget eget konto: bidraget betalas till medsökarens konto."
                    )
                ]
            }
        )
    scheme, number = bank_account
    number = (number or "").strip()
    if scheme not in ACCOUNT_VALIDATORS:
        raise ValidationError({"account_scheme": [_("Välj bankgiro, plusgiro eller IBAN.")]})
    if not number:
        raise ValidationError({"account_number": [_("Skriv kontonumret.")]})
    try:
        ACCOUNT_VALIDATORS[scheme](number)
    except ValidationError as exc:
        raise ValidationError({"account_number": exc.messages})
    digits = "".join(ch for ch in number if ch.isdigit())
    if scheme == PayeeScheme.BANKGIRO:
        number = f"{digits[:-4]}-{digits[-4:]}"
    elif scheme == PayeeScheme.PLUSGIRO:
        number = f"{digits[:-1]}-{digits[-1]}"
    else:
        number = IBAN(number).formatted
    return {field.value: (number if field == scheme else "") for field in PayeeScheme}


def _clean_postal_code(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if not value:
        return ""
    if len(digits) != 5 or any(not (ch.isdigit() or ch.isspace()) for ch in value):
        raise ValidationError({"postal_code": [_("Ett postnummer är fem siffror, till exempel 131 50.")]})
    return f"{digits[:3]} {digits[3:]}"


def organisation_update(
    *,
    organisation: Organisation,
    by: User,
    name: ProfileValue = UNCHANGED,
    email: ProfileValue = UNCHANGED,
    phone: ProfileValue = UNCHANGED,
    street_address: ProfileValue = UNCHANGED,
    postal_code: ProfileValue = UNCHANGED,
    city: ProfileValue = UNCHANGED,
    district: ProfileValue = UNCHANGED,
    board: Iterable[Mapping[str, object]] | None | _Unchanged = UNCHANGED,
) -> Organisation:
    """Change the parts of the profile that are given; the others stay as they are.
    board: [{"name", "role"}]. Only confirmed members may edit; the row is locked so two
    people saving at once do not mix their edits. The bank account is not edited here: a
    change is a request that finance approves (grants.services.payee_accounts)."""
    given = {
        key: value
        for key, value in {
            "name": name,
            "email": email,
            "phone": phone,
            "street_address": street_address,
            "postal_code": postal_code,
            "city": city,
            "district": district,
        }.items()
        if value is not UNCHANGED
    }
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        _check_confirmed(organisation, by, _("ändra föreningens uppgifter"))
        errors: dict[str, list[str]] = {}
        for key, value in given.items():
            value = " ".join(str(value or "").split())
            if key == "name" and not value:
                errors["name"] = [_("Skriv namnet.")]
                continue
            if key == "postal_code":
                try:
                    value = _clean_postal_code(value)
                except ValidationError as exc:
                    errors.update(exc.message_dict)
                    continue
            if key == "email" and value:
                try:
                    validate_email(value)
                except ValidationError:
                    errors["email"] = [_("Skriv en giltig e-postadress, till exempel info@forening.se.")]
                    continue
            field = organisation._meta.get_field(key)
            assert isinstance(field, CharField), "the profile's fields are text"
            setattr(organisation, key, value[: field.max_length])
        if board is not UNCHANGED:
            try:
                organisation.board = _clean_board(board, kind=organisation.kind)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        organisation.full_clean()
        organisation.save()
    return organisation


def organisation_file_add(*, organisation: Organisation, by: User, kind: str, upload: Upload) -> OrganisationFile:
    """Add the association's statutes or annual meeting minutes. The upload is checked
    (type, size, first bytes) and stored under a new key with its SHA-256 before the row is
    written; a later upload of the same kind becomes the current one, the earlier stays."""
    if kind not in OrganisationFile.Kind.values:
        raise ValidationError({"kind": [_("Välj om filen är stadgar eller årsmötesprotokoll.")]})
    _check_confirmed(organisation, by, _("lägga till dokument"))
    try:
        content_type = validate_upload(
            ContentFile(upload.content, name=upload.filename), max_mb=settings.GRANTS_UPLOAD_MAX_MB
        )
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages})
    filename = _short_filename(upload.filename)
    stored = store_file(
        folder=kind, filename=filename, content=upload.content, under=f"organisations/{organisation.pk}"
    )
    with discarded_on_failure(stored), transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        _check_confirmed(organisation, by, _("lägga till dokument"))
        if organisation.verification == Organisation.Verification.REFUSED:
            # New evidence after a refusal: the officer looks again.
            organisation.verification = Organisation.Verification.UNVERIFIED
            organisation.save(update_fields=["verification"])
        return OrganisationFile.objects.create(
            organisation=organisation,
            kind=kind,
            filename=filename,
            content_type=content_type,
            storage_key=stored[0],
            sha256=stored[1],
            uploaded_by=by,
        )


# --- joining: asking, inviting, confirming -------------------------------------------------------


def membership_request(
    *, by: User | AnonymousUser, org_number: str | None, role: str = Membership.Role.MEMBER
) -> Membership:
    """A logged-in person asks to act for a registered association: a pending membership
    that the association's confirmed members are told about and may confirm."""
    if not by.is_authenticated:
        raise PermissionDenied(_("Logga in för att gå med i en förening."))
    access.require(access.email_confirmed(by))
    if role not in Membership.Role.values:
        raise ValidationError({"role": [_("Välj en roll.")]})
    number = _orgnr(org_number, field="org_number")
    organisation = _association_by_orgnr(number)
    if organisation is None:
        raise ValidationError(
            {
                "org_number": [
                    _(
                        "Det finns ingen förening med organisationsnumret %(number)s i portalen. Du kan skapa föreningens "
                        "profil i stället (Skapa förening)."
                    )
                    % {"number": number}
                ]
            }
        )
    if organisation.verification != Organisation.Verification.VERIFIED:
        # Its only members are whoever registered it, who could let anyone in: the officer
        # verifies it first, and a person who says it is theirs makes a claim (Skapa förening).
        raise ValidationError(
            {
                "org_number": [
                    _(
                        "%(name)s är inte verifierad av kommunen än, så ingen kan gå med i den. Hör du till "
                        "föreningen? Registrera den under Skapa förening med stadgar och årsmötesprotokoll, så "
                        "prövar kommunen ditt anspråk."
                    )
                    % {"name": organisation.name}
                ]
            }
        )
    try:
        with transaction.atomic():
            membership, created = Membership.objects.get_or_create(
                user=by, organisation=organisation, defaults={"role": role, "status": Membership.Status.PENDING}
            )
            if not created:
                raise ValidationError(_already_member(membership))
            _audit_membership(membership, by=by, change="requested", before=None)
            who = _display_name(by)
            _mail_after_commit(
                _confirmed_recipients(organisation),
                lambda: (
                    _("%(person)s vill gå med i %(name)s") % {"person": who, "name": organisation.name},
                    _(
                        "%(person)s (%(email)s) har bett att få företräda %(name)s i kommunens bidragsportal. "
                        "Bekräfta eller avböj under Personer på föreningens sida. Bekräfta bara personer som ni vet "
                        "hör till föreningen.\n\n%(footer)s\n"
                    )
                    % {"person": who, "email": by.email, "name": organisation.name, "footer": _footer()},
                ),
            )
    except IntegrityError:
        raise ValidationError(_already_member(Membership.objects.get(user=by, organisation=organisation)))
    return membership


def _already_member(membership: Membership) -> str:
    if membership.status == Membership.Status.PENDING:
        return _("Du har redan bett att få gå med i %(name)s. Någon i föreningen behöver bekräfta dig.") % {
            "name": membership.organisation.name
        }
    return _("Du är redan med i %(name)s.") % {"name": membership.organisation.name}


def _lock_pending(membership: Membership, *, by: User, what: str) -> tuple[Membership, Organisation]:
    """The pending membership, locked, after checking that `by` may decide on it: a confirmed
    member of the same organisation who is not the person asking."""
    try:
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
    except Membership.DoesNotExist:
        raise ValidationError(_("Förfrågan finns inte längre. Någon annan i föreningen har redan avböjt den."))
    organisation = Organisation.objects.get(pk=membership.organisation_id)
    if membership.user_id == by.pk:
        raise PermissionDenied(
            _("Du kan inte %(what)s dig själv. Någon annan som redan är bekräftad i föreningen behöver göra det.")
            % {"what": what}
        )
    access.require(access.may_manage_members(_membership_of(organisation, by)))
    if membership.status != Membership.Status.PENDING:
        raise ValidationError(
            _("%(person)s är redan bekräftad i %(name)s.")
            % {"person": _display_name(membership.user), "name": organisation.name}
        )
    return membership, organisation


def membership_confirm(*, membership: Membership, by: User) -> Membership:
    """A confirmed member confirms a pending one, who then acts for the organisation.
    The row lock makes a second, simultaneous confirmation find it already confirmed."""
    with transaction.atomic():
        membership, organisation = _lock_pending(membership, by=by, what=_("bekräfta"))
        membership.status = Membership.Status.CONFIRMED
        membership.confirmed_by = by
        membership.confirmed_at = timezone.now()
        membership.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        _audit_membership(membership, by=by, change="confirmed", before=f"pending:{membership.role}")
        person = membership.user
        _mail_after_commit(
            [(person.email, _language_of(person))],
            lambda: (
                _("Du är bekräftad i %(name)s") % {"name": organisation.name},
                _(
                    "%(by)s har bekräftat dig i %(name)s. Nu kan du se föreningens ärenden och ansöka om bidrag "
                    "för den.\n\n%(footer)s\n"
                )
                % {"by": _display_name(by), "name": organisation.name, "footer": _footer()},
            ),
        )
    return membership


def membership_decline(*, membership: Membership, by: User) -> None:
    """A confirmed member declines a pending one: the request is removed."""
    with transaction.atomic():
        membership, organisation = _lock_pending(membership, by=by, what=_("avböja"))
        person = membership.user
        _audit_membership(membership, by=by, change="declined", before=_state(membership))
        membership.delete()
        _mail_after_commit(
            [(person.email, _language_of(person))],
            lambda: (
                _("Din förfrågan om %(name)s avböjdes") % {"name": organisation.name},
                _(
                    "Din förfrågan om att företräda %(name)s i kommunens bidragsportal avböjdes. Tror du att det är "
                    "fel, kontakta föreningen.\n"
                )
                % {"name": organisation.name},
            ),
        )


def invitation_expires(invitation: Invitation) -> dt.datetime:
    return invitation.created_at + dt.timedelta(days=INVITATION_VALID_DAYS)


def invitation_create(
    *, organisation: Organisation, by: User, email: str | None, role: str = Membership.Role.MEMBER, site_url: str
) -> Invitation:
    """A confirmed member invites someone by e-mail. The e-mail carries a link with a random
    token that works once, for INVITATION_VALID_DAYS days. site_url: the portal's address
    ("https://bidrag.kommun.se"), which the link starts with."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Skriv en giltig e-postadress, till exempel namn@exempel.se.")]})
    if role not in Membership.Role.values:
        raise ValidationError({"role": [_("Välj en roll.")]})
    with transaction.atomic():
        access.require(access.may_manage_members(_membership_of(organisation, by)))
        if organisation.memberships.filter(user__email__iexact=email).exists():
            raise ValidationError(
                {"email": [_("%(email)s är redan med i %(name)s.") % {"email": email, "name": organisation.name}]}
            )
        invitation = Invitation.objects.create(
            organisation=organisation, email=email, role=role, token=secrets.token_urlsafe(32), invited_by=by
        )
        link = site_url.rstrip("/") + reverse("accounts:invitation", args=[invitation.token])
        expires = timezone.localdate(invitation_expires(invitation))
        inviter = _display_name(by)
        # We do not know the invitee's language yet: the municipality's own.
        _mail_after_commit(
            [(email, settings.LANGUAGE_CODE)],
            lambda: (
                _("Inbjudan till %(name)s i bidragsportalen") % {"name": organisation.name},
                _(
                    "%(by)s har bjudit in dig att företräda %(name)s i kommunens bidragsportal.\n\n"
                    "Öppna länken, logga in eller skapa ett konto och tacka ja. När någon i föreningen har bekräftat "
                    "dig ser du föreningens ärenden. Länken gäller till och med %(date)s och kan användas en gång.\n\n"
                    "%(link)s\n\nVäntade du dig inte den här inbjudan kan du bortse från den.\n"
                )
                % {"by": inviter, "name": organisation.name, "date": f"{expires:%Y-%m-%d}", "link": link},
            ),
        )
    return invitation


def invitation_accept(*, token: str, by: User | AnonymousUser) -> Membership:
    """The logged-in invitee takes up an invitation: a pending membership, which a confirmed
    member then confirms. The invitation is locked, so the link works exactly once."""
    if not by.is_authenticated:
        raise PermissionDenied(_("Logga in för att tacka ja till inbjudan."))
    access.require(access.email_confirmed(by))
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token=token).first()
        if invitation is None:
            raise ValidationError(
                _("Inbjudan finns inte. Kontrollera att du har kopierat hela länken."), code="unknown"
            )
        organisation = invitation.organisation
        if invitation.accepted_at is not None:
            raise ValidationError(
                _("Inbjudan har redan använts. Be %(name)s att skicka en ny om du behöver en.")
                % {"name": organisation.name},
                code="used",
            )
        expires = invitation_expires(invitation)
        if timezone.now() > expires:
            raise ValidationError(
                _("Inbjudan gick ut %(date)s. Be %(name)s att skicka en ny.")
                % {"date": f"{timezone.localdate(expires):%Y-%m-%d}", "name": organisation.name},
                code="expired",
            )
        membership = Membership.objects.filter(user=by, organisation=organisation).first()
        if membership is not None and membership.status == Membership.Status.CONFIRMED:
            raise ValidationError(_("Du är redan med i %(name)s.") % {"name": organisation.name}, code="member")
        if membership is None:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(
                        user=by, organisation=organisation, role=invitation.role, status=Membership.Status.PENDING
                    )
                    _audit_membership(membership, by=by, change="requested", before=None)
            except IntegrityError:  # the same person, in another tab, a moment before
                raise ValidationError(_already_member(Membership.objects.get(user=by, organisation=organisation)))
        invitation.accepted_by = by
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_by", "accepted_at"])
        who = _display_name(by)
        _mail_after_commit(
            _confirmed_recipients(organisation, exclude=by),
            lambda: (
                _("%(person)s väntar på bekräftelse i %(name)s") % {"person": who, "name": organisation.name},
                _(
                    "%(person)s (%(email)s) har tackat ja till inbjudan till %(name)s. Bekräfta eller avböj under "
                    "Personer på föreningens sida.\n\n%(footer)s\n"
                )
                % {"person": who, "email": by.email, "name": organisation.name, "footer": _footer()},
            ),
        )
    return membership


def invitation_withdraw(invitation: Invitation, *, by: User) -> str:
    """A confirmed member takes back an invitation that has not been taken up: the row goes,
    so its link leads nowhere ("Inbjudan finns inte"). Nothing refers to an invitation that
    was never accepted, and an accepted one cannot be withdrawn: the person is then a pending
    member, whom the members decline instead. The row lock makes a simultaneous acceptance
    either come first (and the withdrawal is refused) or find no invitation."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if locked is None:
            raise ValidationError(
                _("Inbjudan finns inte längre. Någon annan kan redan ha dragit tillbaka den."), code="gone"
            )
        invitation = locked
        organisation = Organisation.objects.get(pk=invitation.organisation_id)
        access.require(access.may_manage_members(_membership_of(organisation, by)))
        if invitation.accepted_at is not None:
            raise ValidationError(
                _("%(email)s har redan tackat ja till inbjudan. Avböj personen under Personer i stället.")
                % {"email": invitation.email},
                code="used",
            )
        email = invitation.email
        invitation.delete()
    return email


# --- roles -----------------------------------------------------------------------------------------


def membership_role_change(*, membership: Membership, by: User, role: str) -> Membership:
    """A confirmed signatory gives another member a new role (their own stays: another
    signatory changes it, so an association is never left without one by mistake)."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": [_("Välj en roll.")]})
    with transaction.atomic():
        try:
            membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        except Membership.DoesNotExist:
            raise ValidationError(_("Personen är inte längre med i föreningen."))
        organisation = Organisation.objects.get(pk=membership.organisation_id)
        access.require(access.may_change_roles(_membership_of(organisation, by)))
        if membership.user_id == by.pk:
            raise PermissionDenied(_("Du kan inte ändra din egen roll. Be en annan firmatecknare göra det."))
        if membership.role == role:
            return membership
        before = _state(membership)
        membership.role = role
        membership.save(update_fields=["role"])
        _audit_membership(membership, by=by, change="role", before=before)
    return membership


# --- verification by the municipality --------------------------------------------------------------


def _lock_unverified(organisation: Organisation, *, by: User) -> Organisation:
    access.require(access.may_verify_associations(by))
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if organisation.kind != Organisation.Kind.ASSOCIATION:
        raise ValidationError(_("Bara föreningar verifieras; en grupp söker med sin verifierade medsökare."))
    if organisation.verification != Organisation.Verification.UNVERIFIED:
        raise ValidationError(
            _("%(name)s är redan %(state)s.")
            % {"name": organisation.name, "state": organisation.get_verification_display().lower()}
        )
    if _is_confirmed(organisation, by):
        raise PermissionDenied(_("Du tillhör %(name)s och får inte verifiera den.") % {"name": organisation.name})
    return organisation


def association_verify(*, organisation: Organisation, by: User) -> Organisation:
    """An officer has read the statutes and minutes and found the association to be who it
    says: its drafts may now be submitted. Its members are told."""
    with transaction.atomic():
        organisation = _lock_unverified(organisation, by=by)
        organisation.verification = Organisation.Verification.VERIFIED
        organisation.verified_at = timezone.now()
        organisation.verified_by = by
        organisation.refusal_reason = ""
        organisation.save(update_fields=["verification", "verified_at", "verified_by", "refusal_reason"])
        record(
            SecurityEvent.Kind.ASSOCIATION_VERIFIED,
            actor=by,
            details={"organisation": organisation.org_number, "name": organisation.name},
        )
        name = organisation.name
        _mail_after_commit(
            _confirmed_recipients(organisation),
            lambda: (
                _("%(name)s är verifierad") % {"name": name},
                _(
                    "Kommunen har verifierat %(name)s i bidragsportalen. Nu kan ni skicka in ansökningar för "
                    "föreningen.\n\n%(footer)s\n"
                )
                % {"name": name, "footer": _footer()},
            ),
        )
    return organisation


def association_refuse(*, organisation: Organisation, by: User, reason: str) -> Organisation:
    """The officer does not verify the association, for a reason its members read; they may
    send new evidence, which puts it back in the officer's list (organisation_file_add)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Skriv varför föreningen inte verifieras. Föreningen får se skälet.")]})
    with transaction.atomic():
        organisation = _lock_unverified(organisation, by=by)
        organisation.verification = Organisation.Verification.REFUSED
        organisation.verified_at = timezone.now()
        organisation.verified_by = by
        organisation.refusal_reason = reason[:1000]
        organisation.save(update_fields=["verification", "verified_at", "verified_by", "refusal_reason"])
        record(
            SecurityEvent.Kind.ASSOCIATION_REFUSED,
            actor=by,
            details={"organisation": organisation.org_number, "name": organisation.name, "reason": reason},
        )
        name = organisation.name
        _mail_after_commit(
            _confirmed_recipients(organisation),
            lambda: (
                _("%(name)s är inte verifierad") % {"name": name},
                _(
                    "Kommunen har inte kunnat verifiera %(name)s i bidragsportalen.\n\nSkäl: %(reason)s\n\n"
                    "Ladda upp nya stadgar eller ett nytt årsmötesprotokoll på föreningens sida, så tittar "
                    "kommunen på föreningen igen.\n\n%(footer)s\n"
                )
                % {"name": name, "reason": reason, "footer": _footer()},
            ),
        )
    return organisation


def _lock_pending_claim(claim: OrganisationClaim, *, by: User) -> OrganisationClaim:
    access.require(access.may_verify_associations(by))
    claim = OrganisationClaim.objects.select_for_update().select_related("organisation", "claimant").get(pk=claim.pk)
    if claim.status != OrganisationClaim.Status.PENDING:
        raise ValidationError(_("Anspråket är redan %(state)s.") % {"state": claim.get_status_display().lower()})
    if claim.claimant_id == by.pk or _is_confirmed(claim.organisation, by):
        raise PermissionDenied(
            _("Du är part i anspråket på %(name)s och får inte pröva det.") % {"name": claim.organisation.name}
        )
    return claim


def claim_accept(*, claim: OrganisationClaim, by: User, remove_others: bool = False) -> Membership:
    """The officer finds the claimant is entitled to act for the association: they become a
    confirmed signatory. remove_others: the association's other members were not, and go
    (an account that took the profile over). The claimant's evidence becomes the profile's."""
    with transaction.atomic():
        claim = _lock_pending_claim(claim, by=by)
        organisation = Organisation.objects.select_for_update().get(pk=claim.organisation_id)
        person = claim.claimant
        if remove_others:
            for other in organisation.memberships.select_related("user").exclude(user=person):
                _audit_membership(other, by=by, change="removed", before=_state(other))
                other.delete()
        membership = Membership.objects.filter(organisation=organisation, user=person).first()
        before = _state(membership) if membership else None
        if membership is None:
            membership = Membership(organisation=organisation, user=person)
        membership.role = Membership.Role.SIGNATORY
        membership.status = Membership.Status.CONFIRMED
        membership.confirmed_by = by
        membership.confirmed_at = timezone.now()
        membership.save()
        _audit_membership(membership, by=by, change="created" if before is None else "role", before=before)
        for row in claim.files.all():
            OrganisationFile.objects.create(
                organisation=organisation,
                kind=row.kind,
                filename=row.filename,
                content_type=row.content_type,
                storage_key=row.storage_key,
                sha256=row.sha256,
                uploaded_by=person,
            )
        claim.status = OrganisationClaim.Status.ACCEPTED
        claim.decided_by = by
        claim.decided_at = timezone.now()
        claim.save(update_fields=["status", "decided_by", "decided_at"])
        name = organisation.name
        _mail_after_commit(
            [(person.email, _language_of(person))],
            lambda: (
                _("Du företräder nu %(name)s") % {"name": name},
                _(
                    "Kommunen har prövat ditt anspråk och godtagit det. Du är nu bekräftad firmatecknare för "
                    "%(name)s i bidragsportalen.\n\n%(footer)s\n"
                )
                % {"name": name, "footer": _footer()},
            ),
        )
    return membership


def claim_refuse(*, claim: OrganisationClaim, by: User, reason: str) -> OrganisationClaim:
    """The officer refuses a claim, for a reason the claimant is told; nothing else changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Skriv varför anspråket avslås. Den som gjorde det får se skälet.")]})
    with transaction.atomic():
        claim = _lock_pending_claim(claim, by=by)
        claim.status = OrganisationClaim.Status.REFUSED
        claim.decided_by = by
        claim.decided_at = timezone.now()
        claim.reason = reason[:1000]
        claim.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        person, name = claim.claimant, claim.organisation.name
        _mail_after_commit(
            [(person.email, _language_of(person))],
            lambda: (
                _("Ditt anspråk på %(name)s är avslaget") % {"name": name},
                _(
                    "Kommunen har prövat ditt anspråk på att företräda %(name)s och avslagit det.\n\n"
                    "Skäl: %(reason)s\n\nTror du att det är fel, kontakta kommunen.\n"
                )
                % {"name": name, "reason": reason},
            ),
        )
    return claim
