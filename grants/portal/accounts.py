"""Accounts and the association's profile in the portal: registration and the link that
confirms the e-mail address (which acting for an association waits for), the invitation link,
"Min förening" with each organisation's profile, board, bank account, files and people,
and the forms to create an association or an informal group, or to ask to join one.

Every page on an organisation starts from membership_for_user() (404 if the person has no
membership); what changes goes through grants.services.organisations, which checks that
the person is a confirmed member. The account pages' own URLs (/konto/…) are at the end of
this module; the organisation pages are in urls.py under /portal/forening/."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.ratelimit import limit_posts

from .. import access
from ..files import Upload, read_stored
from ..identity import confirmation as email_confirmation
from ..models import Invitation, Membership, Organisation, OrganisationClaim, OrganisationFile
from ..services import organisations as services
from ..services import payee_accounts
from ..web import error_summary, refusal_messages, refusal_to_form, refusal_to_messages, stored_file_response
from .account_forms import (
    AssociationForm,
    BankAccountForm,
    BoardFormSet,
    GroupForm,
    InvitationForm,
    JoinForm,
    OrganisationFileForm,
    ProfileForm,
    RegistrationForm,
    RoleForm,
)

# The latest account requests the organisation's page shows (the audit trail, masked).
ACCOUNT_HISTORY = 10

# --- access --------------------------------------------------------------------------------


def membership_for_user(user, organisation_pk, *, confirmed=False):
    """The one access check for an organisation's pages: the person's membership of it
    (with the organisation), or 404. confirmed: pending members get a 404 too."""
    memberships = Membership.objects.select_related("organisation__sponsor").filter(
        user=user, organisation_id=organisation_pk
    )
    if confirmed:
        memberships = memberships.filter(status=Membership.Status.CONFIRMED)
    membership = memberships.first()
    if membership is None:
        raise Http404(_("Föreningen finns inte, eller så har du inte tillgång till den."))
    return membership


def organisation_file_for_user(user, pk):
    """A profile file as its reader may see it: confirmed members their own organisation's,
    staff every organisation's (the officer reads the statutes when assessing or verifying)."""
    files = OrganisationFile.objects.all()
    if not (access.is_staff_member(user) or access.may_verify_associations(user)):
        files = files.filter(access.confirmed_member(user, via="organisation"))
    try:
        return files.get(pk=pk)
    except OrganisationFile.DoesNotExist:
        raise Http404(_("Dokumentet finns inte, eller så har du inte tillgång till det."))


def _safe_next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


# --- registration and invitations (/konto/) ----------------------------------------------------


@require_http_methods(["GET", "POST"])
@limit_posts("registration", setting="RATE_LIMIT_REGISTRATION")
def register(request):
    """Anyone may create an account. Every valid registration gets the same answer, "Kolla
    din e-post", whether or not the address already had an account (the e-mail says which);
    the link in it confirms the address, signs the person in and leads on to `next`."""
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or "portal:organisations")
    if not settings.APPLICANT_PASSWORD_LOGIN:
        # A password account could not sign in: the account is made at the first e-legitimation.
        messages.info(request, _("Du skapar ditt konto genom att logga in med e-legitimation första gången."))
        return redirect("login")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.account_register(
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            language=request.LANGUAGE_CODE,
            site_url=request.build_absolute_uri("/"),
            next_url=next_url,
        )
        request.session[REGISTERED_EMAIL] = form.cleaned_data["email"].strip()
        return redirect("accounts:register_done")
    return render(
        request,
        "portal/accounts/register.html",
        {
            "form": form,
            "next": next_url,
            "summary": error_summary(form),
        },
        status=400 if form.errors else 200,
    )


# The address just registered, for the "Kolla din e-post" page to name (this browser typed it).
REGISTERED_EMAIL = "registered_email"


def register_done(request):
    return render(request, "portal/accounts/register_done.html", {"email": request.session.get(REGISTERED_EMAIL, "")})


@require_http_methods(["GET", "POST"])
def email_confirm(request, token):
    """The link in the confirmation e-mail. Opening it shows a button (so that a mail
    program that opens links to scan them does not use it up); pressing it confirms the
    address and signs the person in, unless someone is already signed in here."""
    next_url = _safe_next(request)
    problem = None
    if request.method == "POST":
        try:
            user = email_confirmation.email_confirm(token=token, request=request)
        except ValidationError as exc:
            problem = " ".join(refusal_messages(exc))
        else:
            if not request.user.is_authenticated:
                login(request, user, backend="config.auth.UsernameBackend")
            messages.success(request, _("Tack! Din e-postadress är bekräftad."))
            if request.user.pk != user.pk:
                return redirect("home")
            return redirect(next_url or "portal:organisations")
    return render(
        request,
        "portal/accounts/email_confirm.html",
        {"problem": problem, "next": next_url},
        status=400 if problem else 200,
    )


def _email_needed(next_url=""):
    """The "Bekräfta din e-postadress" page, leading back to next_url once confirmed."""
    url = reverse("accounts:email_needed")
    return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


def email_confirmed_required(view):
    """A view decorator for what acts for an association (creating or joining one, an
    invitation, an application): signed in with a confirmed e-mail address, or sent to
    the page that explains and sends the link again."""

    @login_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not access.email_confirmed(request.user):
            return _email_needed(request.get_full_path())
        return view(request, *args, **kwargs)

    return guarded


@login_required
@require_http_methods(["GET", "POST"])
@limit_posts("confirmation-email", setting="RATE_LIMIT_CONFIRMATION_EMAIL", key="user")
def email_needed(request):
    """ "Bekräfta din e-postadress": why the page the person wanted waits, and a button that
    sends the link again (rate limited)."""
    next_url = _safe_next(request)
    if access.email_confirmed(request.user):
        return redirect(next_url or "portal:organisations")
    if request.method == "POST":
        services.email_confirmation_send(user=request.user, site_url=request.build_absolute_uri("/"), next_url=next_url)
        messages.success(request, _("Vi har skickat en ny länk till %(email)s.") % {"email": request.user.email})
        return _email_needed(next_url)
    return render(request, "portal/accounts/email_needed.html", {"next": next_url})


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The link in an invitation e-mail: who invites to what, and a button to accept once
    logged in (or links to log in or register first, which come back here)."""
    invitation = Invitation.objects.select_related("organisation", "invited_by").filter(token=token).first()
    if invitation is None:
        raise Http404(_("Inbjudan finns inte. Kontrollera att du har kopierat hela länken."))
    context = {
        "invitation": invitation,
        "organisation": invitation.organisation,
        "expires": services.invitation_expires(invitation),
        "here": request.get_full_path(),
    }
    problem = None
    if invitation.accepted_at is not None and invitation.accepted_by_id == request.user.pk:
        return redirect("portal:organisation", pk=invitation.organisation_id)
    if invitation.accepted_at is not None:
        problem = _("Inbjudan har redan använts. Be %(name)s att skicka en ny om du behöver en.") % {
            "name": invitation.organisation.name
        }
    elif timezone.now() > context["expires"]:
        problem = _("Inbjudan gick ut %(date)s. Be %(name)s att skicka en ny.") % {
            "date": f"{timezone.localdate(context['expires']):%Y-%m-%d}",
            "name": invitation.organisation.name,
        }
    if request.method == "POST" and problem is None:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        if not access.email_confirmed(request.user):
            return _email_needed(request.path)
        try:
            membership = services.invitation_accept(token=token, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            problem = " ".join(refusal_messages(exc))
        else:
            messages.success(
                request,
                _("Tack! Du väntar nu på att någon i %(name)s bekräftar dig.") % {"name": membership.organisation.name},
            )
            return redirect("portal:organisation", pk=membership.organisation_id)
    context["problem"] = problem
    if request.user.is_authenticated:
        # Someone already in the organisation (or waiting to be) is not offered to join again.
        context["already"] = Membership.objects.filter(
            user=request.user, organisation_id=invitation.organisation_id
        ).first()
    return render(request, "portal/accounts/invitation.html", context, status=410 if problem else 200)


urlpatterns = [
    path("registrera/", register, name="register"),
    path("registrera/kolla-din-e-post/", register_done, name="register_done"),
    path("bekrafta-e-post/", email_needed, name="email_needed"),
    path("bekrafta-e-post/<str:token>/", email_confirm, name="email_confirm"),
    path("inbjudan/<str:token>/", invitation, name="invitation"),
]
app_name = "accounts"


# --- Min förening (/portal/forening/) ------------------------------------------------------------


@login_required
def organisation_list(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("organisation__sponsor")
        .order_by("organisation__name")
    )
    claims = OrganisationClaim.objects.filter(claimant=request.user).select_related("organisation").order_by("-pk")
    return render(request, "portal/accounts/organisations.html", {"memberships": memberships, "claims": claims})


def _upload(uploaded):
    return Upload(filename=uploaded.name, content_type=uploaded.checked_content_type, content=uploaded.read())


def _create(request, *, kind, form_class, template):
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        evidence = {
            file_kind: _upload(data.pop(file_kind)) for file_kind in services.EVIDENCE_KINDS if file_kind in data
        }
        try:
            created = services.organisation_create(by=request.user, kind=kind, evidence=evidence or None, **data)
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            if isinstance(created, OrganisationClaim):
                # Not let in: the officer decides who acts for the registered association.
                messages.warning(
                    request, _("Föreningen är redan registrerad. Kommunen har fått ditt anspråk och hör av sig.")
                )
                return redirect("portal:organisations")
            messages.success(
                request,
                _("Profilen för %(name)s är skapad. Fyll i resten av uppgifterna nedan.") % {"name": created.name},
            )
            return redirect("portal:organisation", pk=created.pk)
    return render(request, template, {"form": form, "summary": error_summary(form)}, status=400 if form.errors else 200)


@email_confirmed_required
@require_http_methods(["GET", "POST"])
def association_create(request):
    return _create(
        request,
        kind=Organisation.Kind.ASSOCIATION,
        form_class=AssociationForm,
        template="portal/accounts/association_create.html",
    )


@email_confirmed_required
@require_http_methods(["GET", "POST"])
def group_create(request):
    return _create(
        request,
        kind=Organisation.Kind.INFORMAL_GROUP,
        form_class=GroupForm,
        template="portal/accounts/group_create.html",
    )


@email_confirmed_required
@require_http_methods(["GET", "POST"])
def organisation_join(request):
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_request(
                by=request.user, org_number=form.cleaned_data["org_number"], role=form.cleaned_data["role"]
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Din förfrågan är skickad till %(name)s. När någon i föreningen har "
                    "bekräftat dig ser du föreningens ärenden."
                )
                % {"name": membership.organisation.name},
            )
            return redirect("portal:organisations")
    return render(
        request,
        "portal/accounts/join.html",
        {"form": form, "summary": error_summary(form)},
        status=400 if form.errors else 200,
    )


def _render_organisation(request, membership, *, status=200, summary=(), **bound):
    """The organisation's page; `bound` holds the one form that was sent with its errors,
    the others are shown as stored."""
    organisation = membership.organisation
    if membership.status != Membership.Status.CONFIRMED:
        return render(
            request,
            "portal/accounts/organisation_pending.html",
            {"organisation": organisation, "membership": membership},
            status=status,
        )
    organisation_files = list(organisation.files.select_related("uploaded_by"))
    files = services.current_files(organisation)
    older = [row for row in organisation_files if files.get(row.kind) != row]
    people = (
        organisation.memberships.select_related("user", "confirmed_by")
        .annotate(
            waiting=Case(
                When(status=Membership.Status.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("waiting", "user__first_name", "user__last_name", "pk")
    )
    profile_initial = {field: getattr(organisation, field) for field in services.PROFILE_FIELDS}
    context = {
        "organisation": organisation,
        "membership": membership,
        "people": people,
        "current_files": [files[kind] for kind in OrganisationFile.Kind.values if kind in files],
        "older_files": older,
        "gaps": services.profile_gaps(organisation, files),
        "invitations": organisation.invitations.filter(
            accepted_at__isnull=True,
            created_at__gte=timezone.now() - timezone.timedelta(days=services.INVITATION_VALID_DAYS),
        ).order_by("-created_at"),
        "profile_form": bound.get("profile_form") or ProfileForm(prefix="profile", initial=profile_initial),
        "board_formset": bound.get("board_formset") or BoardFormSet(prefix="board", initial=organisation.board),
        "bank_form": bound.get("bank_form") or BankAccountForm(prefix="bank"),
        "account": payee_accounts.masked(*account) if (account := organisation.payee.account()) else "",
        "account_requests": organisation.account_requests.select_related("requested_by")[:ACCOUNT_HISTORY],
        "may_ask_for_account": access.may_act_for_money(membership),
        "may_manage_members": access.may_manage_members(membership),
        "may_change_roles": access.may_change_roles(membership),
        "role_form": RoleForm(),
        "file_form": bound.get("file_form") or OrganisationFileForm(prefix="file"),
        "invite_form": bound.get("invite_form") or InvitationForm(prefix="invite"),
        "summary": list(summary),
        "min_board": services.MIN_BOARD,
        "valid_days": services.INVITATION_VALID_DAYS,
    }
    return render(request, "portal/accounts/organisation.html", context, status=status)


@login_required
def organisation_detail(request, pk):
    return _render_organisation(request, membership_for_user(request.user, pk))


def _done(request, membership, message):
    messages.success(request, message)
    return redirect("portal:organisation", pk=membership.organisation_id)


@login_required
@require_POST
def profile_update(request, pk):
    membership = membership_for_user(request.user, pk, confirmed=True)
    form = ProfileForm(request.POST, prefix="profile")
    if form.is_valid():
        try:
            services.organisation_update(organisation=membership.organisation, by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            return _done(request, membership, _("Uppgifterna är sparade."))
    return _render_organisation(request, membership, status=400, profile_form=form, summary=error_summary(form))


@login_required
@require_POST
def board_update(request, pk):
    membership = membership_for_user(request.user, pk, confirmed=True)
    formset = BoardFormSet(request.POST, prefix="board")
    if formset.is_valid():
        board = [{"name": row.get("name", ""), "role": row.get("role", "")} for row in formset.cleaned_data if row]
        try:
            services.organisation_update(organisation=membership.organisation, by=request.user, board=board)
        except (ValidationError, PermissionDenied) as exc:
            formset._non_form_errors = formset.error_class(refusal_messages(exc, about="board"), error_class="nonform")
        else:
            return _done(request, membership, _("Styrelsen är sparad."))
    return _render_organisation(
        request,
        membership,
        status=400,
        board_formset=formset,
        summary=error_summary(formset=formset, formset_what=_("Styrelsen")),
    )


@login_required
@require_POST
def bank_account_update(request, pk):
    """Ask for a new bank account: it takes effect when the municipality's finance has
    approved it (grants.services.payee_accounts)."""
    membership = membership_for_user(request.user, pk, confirmed=True)
    form = BankAccountForm(request.POST, prefix="bank")
    if form.is_valid():
        try:
            payee_accounts.account_change_request(
                organisation=membership.organisation,
                by=request.user,
                bank_account=(form.cleaned_data["account_scheme"], form.cleaned_data["account_number"]),
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            return _done(
                request,
                membership,
                _(
                    "Ändringen av bankkontot är begärd. Den gäller när kommunen har godkänt den; till dess betalas "
                    "bidrag till det nuvarande kontot. Alla i föreningen har fått ett e-postmeddelande om ändringen."
                ),
            )
    return _render_organisation(request, membership, status=400, bank_form=form, summary=error_summary(form))


@login_required
@require_POST
def file_add(request, pk):
    membership = membership_for_user(request.user, pk, confirmed=True)
    form = OrganisationFileForm(request.POST, request.FILES, prefix="file")
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            services.organisation_file_add(
                organisation=membership.organisation,
                by=request.user,
                kind=form.cleaned_data["kind"],
                upload=Upload(
                    filename=uploaded.name, content_type=uploaded.checked_content_type, content=uploaded.read()
                ),
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            return _done(request, membership, _("Dokumentet %(name)s är uppladdat.") % {"name": uploaded.name})
    return _render_organisation(request, membership, status=400, file_form=form, summary=error_summary(form))


@login_required
def file_download(request, pk):
    row = organisation_file_for_user(request.user, pk)
    return stored_file_response(
        request, lambda: (row.filename, row.content_type, read_stored(row.storage_key, row.sha256))
    )


@login_required
@require_POST
@limit_posts("invitations", setting="RATE_LIMIT_INVITATIONS", key="user")
def invite(request, pk):
    membership = membership_for_user(request.user, pk, confirmed=True)
    form = InvitationForm(request.POST, prefix="invite")
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                organisation=membership.organisation,
                by=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                site_url=request.build_absolute_uri("/"),
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            return _done(
                request,
                membership,
                _("Inbjudan är skickad till %(email)s. Länken gäller i %(days)s dagar.")
                % {"email": invitation.email, "days": services.INVITATION_VALID_DAYS},
            )
    return _render_organisation(request, membership, status=400, invite_form=form, summary=error_summary(form))


def _decide(request, pk, *, action, done):
    """Confirm or decline a pending membership; pk is that membership's."""
    pending = Membership.objects.select_related("user").filter(pk=pk).first()
    if pending is None:
        raise Http404(_("Förfrågan finns inte längre."))
    mine = membership_for_user(request.user, pending.organisation_id, confirmed=True)
    try:
        action(membership=pending, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        refusal_to_messages(request, exc)
        return redirect("portal:organisation", pk=mine.organisation_id)
    person = pending.user.get_full_name() or pending.user.email
    return _done(request, mine, done % {"person": person})


@login_required
@require_POST
def membership_confirm(request, pk):
    return _decide(
        request,
        pk,
        action=services.membership_confirm,
        done=_("%(person)s är bekräftad och kan nu företräda föreningen."),
    )


@login_required
@require_POST
def membership_decline(request, pk):
    return _decide(request, pk, action=services.membership_decline, done=_("%(person)s är avböjd."))


@login_required
@require_POST
def membership_role(request, pk):
    """A signatory changes another member's role; pk is that membership's."""
    other = Membership.objects.select_related("user").filter(pk=pk).first()
    if other is None:
        raise Http404(_("Personen är inte längre med i föreningen."))
    mine = membership_for_user(request.user, other.organisation_id, confirmed=True)
    form = RoleForm(request.POST)
    if not form.is_valid():
        refusal_to_messages(request, ValidationError(_("Välj en roll.")))
        return redirect("portal:organisation", pk=mine.organisation_id)
    try:
        changed = services.membership_role_change(membership=other, by=request.user, role=form.cleaned_data["role"])
    except (ValidationError, PermissionDenied) as exc:
        refusal_to_messages(request, exc)
        return redirect("portal:organisation", pk=mine.organisation_id)
    person = other.user.get_full_name() or other.user.email
    return _done(
        request,
        mine,
        _("%(person)s är nu %(role)s.") % {"person": person, "role": changed.get_role_display().lower()},
    )


@login_required
@require_POST
def invitation_withdraw(request, pk):
    """Take back an invitation that has not been answered; pk is the invitation's."""
    invitation = Invitation.objects.filter(pk=pk).first()
    if invitation is None:
        raise Http404(_("Inbjudan finns inte längre."))
    mine = membership_for_user(request.user, invitation.organisation_id, confirmed=True)
    try:
        email = services.invitation_withdraw(invitation, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        refusal_to_messages(request, exc)
        return redirect("portal:organisation", pk=mine.organisation_id)
    return _done(
        request,
        mine,
        _("Inbjudan till %(email)s är tillbakadragen. Länken i den fungerar inte längre.") % {"email": email},
    )
