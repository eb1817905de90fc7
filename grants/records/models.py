"""The register of a case's documents and messages (diarium, OSL 5 kap.) and the document
management plan's retention rules with the log of what they culled (gallring)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grants.models import Application, CaseMessage, Document


class RegisterEntry(models.Model):
    """One registration: a document or message that came in to or went out from a case, or
    that the municipality drew up in it. The public sees every entry of the register, but not
    the description or counterpart of one covered by secrecy, nor a private person's name."""

    class Direction(models.TextChoices):
        INCOMING = "in", _("Inkommande")
        OUTGOING = "out", _("Utgående")
        DRAWN_UP = "drawn_up", _("Upprättad")

    class Counterpart(models.TextChoices):
        ASSOCIATION = "association", _("Förening eller organisation")
        PRIVATE_PERSON = "private_person", _("Privatperson")
        AUTHORITY = "authority", _("Myndighet")
        MUNICIPALITY = "municipality", _("Kommunen")

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="register_entries", verbose_name="ärende"
    )
    registered_at = models.DateTimeField("registrerad", default=timezone.now)
    direction = models.CharField("riktning", max_length=10, choices=Direction.choices)
    counterpart = models.CharField("avsändare eller mottagare", max_length=200, blank=True)
    counterpart_kind = models.CharField("slag av motpart", max_length=20, choices=Counterpart.choices)
    description = models.CharField("beskrivning", max_length=300)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="register_entries"
    )
    message = models.ForeignKey(
        CaseMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="register_entries"
    )
    # Sekretess: the register shows that the entry exists, never what it is about.
    secret = models.BooleanField("omfattas av sekretess", default=False)
    secrecy_ground = models.CharField(
        "sekretessbestämmelse", max_length=100, blank=True, help_text="T.ex. OSL 26 kap. 1 §."
    )
    secrecy_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    anonymised_at = models.DateTimeField("avidentifierad", null=True, blank=True)

    class Meta:
        verbose_name = "diarieföring"
        verbose_name_plural = "diarium"
        ordering = ["registered_at", "pk"]
        indexes = [
            models.Index(fields=["application", "registered_at"]),
            models.Index(fields=["-registered_at", "-id"], name="register_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(secret=False) | ~Q(secrecy_ground=""), name="secret_entry_names_ground"),
        ]
        permissions = [
            ("extract_personal_data", "Kan ta fram registerutdrag om en person (GDPR art. 15)"),
            ("export_archive", "Kan ta fram arkivpaket för e-arkivet"),
        ]

    def __str__(self):
        return f"{self.application.case_number} {self.registered_at:%Y-%m-%d} {self.description}"

    @property
    def public_description(self):
        return _("Sekretessmarkerad handling") if self.secret else self.description

    @property
    def public_counterpart(self):
        """The name the public may see: none for a secret entry or a private person."""
        if self.secret or self.counterpart_kind == self.Counterpart.PRIVATE_PERSON or self.anonymised_at:
            return ""
        return self.counterpart


class RetentionRule(models.Model):
    """One line of the document management plan (dokumenthanteringsplan): what happens to a
    kind of record, counted from the case's closing."""

    class Subject(models.TextChoices):
        # The kinds of Document, and the messages' texts.
        ATTACHMENT = "attachment", _("Bilaga till ansökan")
        COMPLETION = "completion", _("Komplettering")
        FOLLOW_UP = "follow_up", _("Bilaga till återrapport")
        RECEIPT = "receipt", _("Mottagningskvitto")
        DECISION_LETTER = "decision_letter", _("Beslutsbrev")
        REPAYMENT_LETTER = "repayment_letter", _("Beslut om återkrav")
        MESSAGE_FILE = "message", _("Bilaga till meddelande")
        OFFICER_REPORT = "officer_report", _("Tjänsteskrivelse")
        PROTOCOL_EXTRACT = "protocol_extract", _("Protokollsutdrag")
        MESSAGE_TEXT = "message_text", _("Meddelanden och anteckningar (text)")

    class Action(models.TextChoices):
        KEEP = "keep", _("Bevaras")
        CULL = "cull", _("Gallras")
        ANONYMISE = "anonymise", _("Avidentifieras")

    subject = models.CharField("handlingsslag", max_length=30, choices=Subject.choices, unique=True)
    action = models.CharField("åtgärd", max_length=20, choices=Action.choices)
    years = models.PositiveSmallIntegerField(
        "efter antal år", null=True, blank=True, help_text="Räknat från att ärendet avslutades."
    )
    decision_reference = models.CharField(
        "gallringsbeslut", max_length=200, help_text="Beslutet som medger gallringen, t.ex. KFN 2026-03-12 § 14."
    )

    class Meta:
        verbose_name = "gallringsregel"
        verbose_name_plural = "dokumenthanteringsplan"
        ordering = ["subject"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="keep", years=None) | Q(action__in=["cull", "anonymise"], years__isnull=False),
                name="retention_years_when_culled",
            ),
        ]

    def __str__(self):
        return f"{self.get_subject_display()}: {self.get_action_display()}"

    def clean(self):
        """A kept record has no period; a culled or anonymised one needs at least a year
        (the database's check says the same, without the words)."""
        super().clean()
        if self.action == self.Action.KEEP and self.years is not None:
            raise ValidationError({"years": _("Lämna fältet tomt när handlingarna bevaras.")})
        if self.action in (self.Action.CULL, self.Action.ANONYMISE) and not self.years:
            raise ValidationError(
                {"years": _("Ange efter hur många år (minst 1) handlingarna gallras eller avidentifieras.")}
            )


class RetentionLog(models.Model):
    """What retention did: the case, what was culled or anonymised, when, under which decision."""

    performed_at = models.DateTimeField("utförd", default=timezone.now)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+", verbose_name="ärende")
    case_number = models.CharField("diarienummer", max_length=30)
    subject = models.CharField("handlingsslag", max_length=30, choices=RetentionRule.Subject.choices)
    action = models.CharField("åtgärd", max_length=20, choices=RetentionRule.Action.choices)
    what = models.CharField("vad", max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    decision_reference = models.CharField("gallringsbeslut", max_length=200)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    message = models.ForeignKey(CaseMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = "gallringslogg"
        verbose_name_plural = "gallringslogg"
        ordering = ["-performed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "action"], condition=Q(document__isnull=False), name="document_culled_once"
            ),
            models.UniqueConstraint(
                fields=["message", "action"], condition=Q(message__isnull=False), name="message_culled_once"
            ),
        ]

    def __str__(self):
        return f"{self.performed_at:%Y-%m-%d} {self.case_number} {self.what}"
