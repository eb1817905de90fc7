from django.db import models
from viewflow.workflow.models import Process


class GrantProcess(Process):
    """The viewflow process of one case. It holds only the tasks; the application's
    FSM state is the truth that lists and reports filter on."""

    application = models.OneToOneField("grants.Application", on_delete=models.PROTECT, related_name="process")

    class Meta:
        verbose_name = "ärendeprocess"
        verbose_name_plural = "ärendeprocesser"
