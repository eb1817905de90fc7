"""The steps of the flow that are taken outside viewflow's task pages: the applicant's
(submit, answer a completion request, send the follow-up report, withdraw), each running
its node, whose callback calls the grants service inside the flow's lock; an informal
group's sponsor confirming its application; and finance's, which change payments of many
cases at once and run a case's await_payment node when it is paid."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow import STATUS
from viewflow.workflow.exceptions import FlowLockFailed, FlowRuntimeError

from grants.files import discarded_on_failure
from grants.models import Application, Payment, PaymentBatch
from grants.services import apply, follow_up, pay

from .flows import GrantFlow
from .models import GrantProcess


def _open_task(application, node, missing):
    process = GrantProcess.objects.filter(application=application).first()
    task = process and process.task_set.filter(flow_task=node, status=STATUS.NEW).first()
    if not task:
        raise ValidationError(missing)
    return task


def case_submit(*, application, by):
    with transaction.atomic():
        process = GrantFlow.start.run(application=application, by=by)
    return process.application


def case_sponsor_confirm(*, application, by):
    """A confirmed member of an informal group's sponsor confirms its application: the
    sponsor_confirmed start node runs application_sponsor_confirm, which locks the
    application's row, so that of two members confirming at once exactly one starts the
    case and the other is told it is already confirmed."""
    with transaction.atomic():
        process = GrantFlow.sponsor_confirmed.run(application=application, by=by)
    return process.application


def case_withdraw(*, application, by, note=""):
    """Withdraw an application before a decision. A draft, or one awaiting its sponsor, has
    no flow yet: the service alone. A submitted case's process is cancelled (every open task
    ends CANCELED, so no officer has anything more to do) and the application withdrawn, in
    one transaction: if either is refused, neither happens."""
    application = Application.objects.select_related("organisation").get(pk=application.pk)  # as it is now
    if application.status in (Application.Status.DRAFT, Application.Status.AWAITING_SPONSOR):
        return apply.application_withdraw(application=application, by=by, note=note)
    # Refused before the flow is touched; the service checks again under the row lock.
    apply.check_withdrawable(application, by=by)
    process = GrantProcess.objects.get(application=application)
    try:
        with transaction.atomic():
            # The process first, then the application, in the order every flow node locks them.
            GrantFlow.instance.cancel(process)
            return apply.application_withdraw(application=application, by=by, note=note, flow_cancelled=True)
    except (FlowLockFailed, FlowRuntimeError) as exc:
        raise ValidationError(_("Ärendet ändras just nu av någon annan. Försök igen om en stund.")) from exc


def case_answer_completion(*, application, by, answer):
    task = _open_task(application, GrantFlow.await_completion, "Det finns ingen öppen kompletteringsbegäran i ärendet.")
    return GrantFlow.await_completion.run(task, by=by, answer=answer)


def case_submit_report(*, application, by, attachment=None, **report):
    """Submit the follow-up report: the await_report node runs grants' follow_up_submit.
    An attachment (an Upload) is stored before the flow's lock is taken, as uploads are
    slow, and removed again if the submission is refused."""
    task = _open_task(application, GrantFlow.await_report, "Återrapporten kan inte lämnas in nu.")
    stored = follow_up.follow_up_attachment_store(application=application, upload=attachment)
    with discarded_on_failure(stored):
        return GrantFlow.await_report.run(task, by=by, attachment=attachment, stored=stored, **report)


def active_task_names(application):
    """The names of the case's open tasks (used to check that flow and state agree)."""
    return sorted(
        str(task.flow_task.name)
        for task in GrantFlow.task_class.objects.filter(process__grantprocess__application=application)
        .exclude(status__in=[STATUS.DONE, STATUS.CANCELED])
    )


# --- finance: payments many cases at a time --------------------------------------------
#
# Finance's pages change payments, not tasks; when a case has nothing left to pay, its
# await_payment node runs. The cases' processes are locked first, in primary-key order,
# as every flow node locks its process before the services lock their rows: two calls
# finishing a case's last payments run one after the other, and the second sees the case
# settled.

def _lock_processes(application_ids):
    list(GrantProcess.objects.select_for_update(of=("self",)).filter(application_id__in=application_ids)
         .order_by("pk").values_list("pk", flat=True))


def _advance_settled(application_ids):
    tasks = (GrantFlow.task_class.objects.filter(flow_task=GrantFlow.await_payment, status=STATUS.NEW,
                                                 process__grantprocess__application_id__in=application_ids)
             .select_related("process__grantprocess").order_by("process_id"))
    open_cases = set(Payment.objects.filter(application_id__in=application_ids, status__in=Payment.OPEN)
                     .values_list("application_id", flat=True))
    for task in tasks:
        if task.process.grantprocess.application_id not in open_cases:
            GrantFlow.await_payment.run(task)


def _application_ids(payment_ids):
    return set(Payment.objects.filter(pk__in=payment_ids).values_list("application_id", flat=True))


def cases_mark_paid(*, payment_ids, by, on=None):
    with transaction.atomic():
        cases = _application_ids(payment_ids)
        _lock_processes(cases)
        payments = pay.payments_mark_paid(payment_ids=payment_ids, by=by, on=on)
        _advance_settled(cases)
    return payments


def cases_mark_failed(*, payment_ids, by, reason):
    # A failed payment is replaced by a planned one: the case keeps waiting for payment.
    return pay.payments_mark_failed(payment_ids=payment_ids, by=by, reason=reason)


def cases_status_report(*, report, by):
    """Apply the bank's status report (pain.002) and move on the cases it settles."""
    with transaction.atomic():
        batch = PaymentBatch.objects.filter(reference=report.original_message_id).first()
        cases = set(batch.payments.values_list("application_id", flat=True)) if batch else set()
        _lock_processes(cases)
        paid, failed = pay.status_report_apply(report=report, by=by)
        _advance_settled({payment.application_id for payment in paid})
    return paid, failed
