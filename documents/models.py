"""What documents/ records of its own: who asked for a committee meeting's letters, when.

The letters themselves are `grants.Document` rows on each case. Progress is never stored:
it is read from the decisions, their letters and the task queue (documents.batches).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class LetterBatch(models.Model):
    """One press of "Skapa beslutsbrev för sammanträdet" (or the demo's equivalent)."""

    meeting = models.ForeignKey(
        "grants.CommitteeMeeting", on_delete=models.PROTECT, related_name="letter_batches", verbose_name="sammanträde"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="startad av"
    )
    started_at = models.DateTimeField("startad", default=timezone.now)
    letters_queued = models.PositiveIntegerField(
        "brev lagda i kö", default=0, help_text="Hur många brev just den här starten lade i kö."
    )

    class Meta:
        verbose_name = "brevutskick för sammanträde"
        verbose_name_plural = "brevutskick för sammanträden"
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.meeting} {self.started_at:%Y-%m-%d %H:%M}"
