"""The audit trail of who is who (SecurityEvent); the models of sign-in methods live beside it."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SecurityEvent(models.Model):
    """One row per sign-in, failed sign-in, role change, association verification and
    membership change: who (the person it concerns, and who did it when that is someone
    else), when, and from where (the address and browser). Rows are only ever added."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Inloggning")
        SIGN_IN_FAILED = "sign_in_failed", _("Misslyckad inloggning")
        SIGN_OUT = "sign_out", _("Utloggning")
        SESSION_EXPIRED = "session_expired", _("Sessionen gick ut")
        ROLE_CHANGE = "role_change", _("Ändrad roll")
        ASSOCIATION_VERIFIED = "association_verified", _("Förening verifierad")
        ASSOCIATION_REFUSED = "association_refused", _("Förening inte verifierad")
        ASSOCIATION_CLAIMED = "association_claimed", _("Anspråk på registrerad förening")
        MEMBERSHIP_CHANGE = "membership_change", _("Ändrat medlemskap")
        PASSWORD_RESET = "password_reset", _("Lösenord återställt")
        PASSWORD_CHANGED = "password_changed", _("Lösenord ändrat")
        EMAIL_CONFIRMED = "email_confirmed", _("E-postadress bekräftad")
        SECOND_FACTOR = "second_factor", _("Ändrad tvåstegsverifiering")
        IDENTITY_LINKED = "identity_linked", _("E-legitimation kopplad")
        PERSONAL_DATA_EXTRACT = "personal_data_extract", _("Registerutdrag enligt GDPR art. 15")

    kind = models.CharField("händelse", max_length=30, choices=Kind.choices)
    at = models.DateTimeField("tid", default=timezone.now, db_index=True)
    # The person the event is about (None for a failed sign-in to an account that does not exist).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="person",
    )
    # Who did it, when someone else did (an officer verifying, a member confirming another).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="utförd av",
    )
    # What was typed to sign in, for a failed sign-in (an e-mail address or user name; never a password).
    identifier = models.CharField("angiven inloggning", max_length=254, blank=True)
    address = models.GenericIPAddressField("adress", null=True, blank=True)
    user_agent = models.CharField("webbläsare", max_length=200, blank=True)
    # What changed, in words a reviewer reads: {"method": "password"}, {"from": […], "to": […]}, …
    details = models.JSONField("detaljer", default=dict, blank=True)

    class Meta:
        verbose_name = "säkerhetshändelse"
        verbose_name_plural = "säkerhetshändelser"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"]), models.Index(fields=["kind", "-at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Identity(models.Model):
    """A way to sign in other than the password, linked to one account: e-legitimation
    (BankID, Freja eID+ through the municipality's broker) for applicants, or the
    municipality's own identity provider (single sign-on) for staff.

    key is what the provider's ID token is looked up by. For e-legitimation it is a keyed
    hash (HMAC-SHA256 with IDENTITY_HASH_KEY) of the personal identity number, which is
    never stored in clear text; display is its masked form ("19850312-****"). For single
    sign-on it is the provider's subject (sub), and display the user name it gave."""

    class Provider(models.TextChoices):
        EID = "eid", _("E-legitimation")
        STAFF = "staff", _("Kommunens inloggning")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField("inloggning", max_length=10, choices=Provider.choices)
    key = models.CharField("nyckel", max_length=255)
    display = models.CharField("visas som", max_length=150, blank=True)
    created_at = models.DateTimeField("kopplad", default=timezone.now)
    last_used_at = models.DateTimeField("senast använd", null=True, blank=True)

    class Meta:
        verbose_name = "kopplad inloggning"
        verbose_name_plural = "kopplade inloggningar"
        constraints = [
            models.UniqueConstraint(fields=["provider", "key"], name="one_account_per_identity"),
            models.UniqueConstraint(fields=["provider", "user"], name="one_identity_per_provider_and_account"),
        ]

    def __str__(self):
        return f"{self.get_provider_display()}: {self.display}"


class StaffRoleMapping(models.Model):
    """A group the municipality's identity provider names in its group claim, and the staff
    role (a Django group: Handläggare, Beslutsfattare, Ekonomi, Ledning, Systemförvaltare)
    it gives. Set by the administrator; read at every single sign-on."""

    claim_value = models.CharField(
        "grupp hos identitetsleverantören",
        max_length=255,
        help_text="Värdet i ID-tokenets gruppanspråk, t.ex. gruppens namn eller id i Entra ID.",
    )
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", verbose_name="roll")
    # The committees the group's members work in (grants.StaffScope is set from the union of
    # a person's mappings at every sign-on).
    all_committees = models.BooleanField("alla nämnder", default=False)
    committees = models.ManyToManyField("grants.Committee", blank=True, related_name="+", verbose_name="nämnder")

    class Meta:
        verbose_name = "rollkoppling"
        verbose_name_plural = "rollkopplingar"
        ordering = ["claim_value", "group__name"]
        constraints = [models.UniqueConstraint(fields=["claim_value", "group"], name="unique_role_mapping")]

    def __str__(self):
        return f"{self.claim_value} → {self.group}"


class ConfirmedEmail(models.Model):
    """The e-mail address a person has shown to be theirs (by the link sent to it). Acting
    for an association needs the account's current address confirmed: a changed address is
    unconfirmed until its own link is followed."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="confirmed_email")
    email = models.EmailField("e-post")
    confirmed_at = models.DateTimeField("bekräftad", default=timezone.now)

    class Meta:
        verbose_name = "bekräftad e-postadress"
        verbose_name_plural = "bekräftade e-postadresser"


class ApiToken(models.Model):
    """A key of one integration (the finance system, the register, business intelligence) to
    the REST API (workflows/api/). The key is shown once, when it is made, and kept only as a
    SHA-256 hash; its first characters (the prefix) name it in lists and logs.

    The key signs in as an account of its own, made for the integration, that cannot sign in
    anywhere else: its group is the token's staff role and its committee scope the token's
    committees, so every endpoint asks the very rules the staff pages ask (grants/access.py)."""

    name = models.CharField("integration", max_length=100)
    prefix = models.CharField("nyckelns början", max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    role = models.ForeignKey(Group, on_delete=models.PROTECT, verbose_name="roll")
    committees = models.ManyToManyField("grants.Committee", blank=True, verbose_name="nämnder")
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token", verbose_name="konto"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField("gäller till", null=True, blank=True)
    last_used_at = models.DateTimeField("senast använd", null=True, blank=True)
    revoked_at = models.DateTimeField("återkallad", null=True, blank=True)

    class Meta:
        verbose_name = "API-nyckel"
        verbose_name_plural = "API-nycklar"
        ordering = ["name", "pk"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_valid(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
