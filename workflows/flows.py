"""The one grant flow: every programme's cases walk this chart.

    submit* ─▶ check completeness ─▶ complete? ─no─▶ await completion (applicant) ─┐
                     ▲                  │yes                                        │
                     └──────────────────┼───────────────────────────────────────────┘
                                        ▼
                  assess ─▶ who decides? ─ jäv declared ─▶ assess (by someone else)
                                        ├─ within delegation ─▶ decide (officer) ──┐
                                        └─ above it ─▶ decide (committee) ─────────┤
                                                                                   ▼
                                          letter ─▶ granted? ─no─▶ end
                                                        │yes
                        ┌──────────────────────▶ paid and reported? ─ a payment open ─▶ await payment ─┐
                        │                          ▲   ├─ settled ─▶ close ─▶ end     (finance)       │
                        │                          │   └─ report owed ─▶ await report                  │
                        │                          └──────────────────────────────────────│───────────┘
                        │                                                                 ▼
                        └──────────── approved ◀── report reviewed? ◀── review ◀── report received
                                                        ├─ completion asked ─▶ await report
                                                        └─ rejected ─▶ repayment letter ─▶ close

* An association's application starts the flow when it is submitted; an informal group's
when its sponsor association confirms it (the start node sponsor_confirmed). Until then it
has no process, and the officers see nothing of it. Withdrawing a submitted case before a
decision cancels its process (grants.services.apply.application_withdraw, through
workflows.process).

Programme differences (delegation limit, payment plan, follow-up) are read from the
programme's configuration by the gates; the nodes never branch on the kind of grant.
Each step a person takes is one public grants service, which hands its state change to
this flow through grants.process (workflows.process says where each step happens); the
callbacks call that `work`. Documents are produced after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.db import transaction
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.models import AbstractTask, Process

from documents import letters, tasks
from grants import access
from grants.models import Application, FollowUpReport
from grants.services import follow_up
from grants.services.pay import payments_open

from . import nodes, views
from .models import GrantProcess

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import Model

T = TypeVar("T")


def _app(activation: Activation) -> Application:
    # Read afresh once per node: the services lock and change their own copy of the row,
    # so an application cached on the process may be behind.
    if not hasattr(activation, "grant_application"):
        activation.grant_application = Application.objects.select_related("call__programme").get(
            pk=activation.process.application_id
        )
    return activation.grant_application


def _case(activation: Activation) -> Application:
    """The application as the gateways see it (and whom a task goes to). The nodes one step
    sets off share their process object, so it is read once for all of them: gateways only
    read, and the step's service has changed the case before the first of them runs. The one
    node that changes the case on the way, close, ends the chain."""
    process = activation.process
    if not hasattr(process, "gateway_application"):
        process.gateway_application = Application.objects.select_related("call__programme").get(
            pk=process.application_id
        )
    return process.gateway_application


class GrantFlow(flow.Flow):
    process_class = GrantProcess
    lock_impl = lock.select_for_update_lock
    process_title = "Bidragsärende"
    process_description = "Från inkommen ansökan till avslutat ärende, för alla bidragsformer."

    start = flow.StartHandle(this.start_case).Annotation(title="Ansökan inkommen").Next(this.check_completeness)

    sponsor_confirmed = (
        # An informal group's application arrives when its sponsor association confirms it.
        flow.StartHandle(this.start_sponsored_case)
        .Annotation(title="Ansökan bekräftad av medsökaren")
        .Next(this.check_completeness)
    )

    check_completeness = (
        nodes.CaseView(views.CompletenessView.as_view())
        .Annotation(title="Kontrollera att ansökan är komplett")
        .Permission("grants.handle_application")
        .Next(this.is_complete)
    )

    is_complete = (
        nodes.If(lambda act: _case(act).status == Application.Status.IN_ASSESSMENT)
        .Annotation(title="Komplett?")
        .Then(this.assess)
        .Else(this.await_completion)
    )

    await_completion = (
        flow.Handle(this.completion_received)
        .Annotation(title="Väntar på komplettering från sökande")
        .Next(this.check_completeness)
    )

    assess = (
        nodes.CaseView(views.AssessView.as_view())
        .Annotation(title="Bedöm ansökan")
        .Permission("grants.handle_application")
        .Next(this.route_decision)
    )

    route_decision = (
        # A declared conflict of interest leaves the case unassessed: it goes back to the
        # queue, where the conflicted officer can no longer take it. Otherwise the proposed
        # amount against the programme's delegation limit decides who decides.
        nodes.Switch()
        .Annotation(title="Vem beslutar?")
        .Case(this.assess, lambda act: _case(act).status != Application.Status.ASSESSED)
        .Case(this.decide_by_officer, lambda act: not _case(act).assessment.needs_committee)
        .Default(this.decide_by_committee)
    )

    decide_by_officer = (
        nodes.CaseView(views.DecideView.as_view())
        .Annotation(title="Besluta på delegation")
        .Permission("grants.handle_application")
        .Assign(lambda act: _case(act).assessment.officer)
        .Next(this.send_letter)
    )

    decide_by_committee = (
        nodes.CaseView(views.DecideView.as_view())
        .Annotation(title="Besluta i nämnden")
        .Permission("grants.decide_application")
        .Next(this.send_letter)
    )

    send_letter = (
        nodes.Function(this.produce_decision_letter).Annotation(title="Skicka beslutsbrev").Next(this.is_granted)
    )

    is_granted = (
        nodes.If(lambda act: _case(act).status in Application.GRANTED)
        .Annotation(title="Beviljad?")
        .Then(this.after_payment)
        .Else(this.end)
    )

    await_payment = (
        # Finance works on payments, many cases at a time, in its own pages (attest, payment
        # file, the bank's status report); when a case has nothing left to pay, those pages
        # run this node (grants.process.settle, through workflows.process).
        flow.Handle(this.payments_settled)
        .Annotation(title="Utbetalning: attest, betalfil och bekräftelse (ekonomi)")
        .Next(this.after_payment)
    )

    after_payment = (
        # Parts still to pay wait for finance; a settled case closes; otherwise the grantee
        # owes the follow-up report.
        nodes.Switch()
        .Annotation(title="Utbetalt och redovisat?")
        .Case(this.await_payment, lambda act: payments_open(_case(act)).exists())
        .Case(this.close, lambda act: follow_up.is_ready_to_close(_case(act)))
        .Default(this.await_report)
    )

    await_report = (
        flow.Handle(this.report_received)
        .Annotation(title="Väntar på återrapport från sökande")
        .Next(this.review_report)
    )

    review_report = (
        nodes.CaseView(views.ReviewReportView.as_view())
        .Annotation(title="Granska återrapport")
        .Permission("grants.handle_application")
        .Next(this.report_outcome)
    )

    report_outcome = (
        nodes.Switch()
        .Annotation(title="Återrapport godkänd?")
        .Case(this.await_report, lambda act: _case(act).follow_up.status == FollowUpReport.Status.COMPLETION_REQUESTED)
        .Case(this.send_repayment_letter, lambda act: _case(act).follow_up.status == FollowUpReport.Status.REJECTED)
        .Default(this.after_payment)
    )

    send_repayment_letter = (
        nodes.Function(this.produce_repayment_letter).Annotation(title="Skicka beslut om återkrav").Next(this.close)
    )

    close = nodes.Function(this.close_case).Annotation(title="Avsluta ärendet").Next(this.end)

    end = flow.End().Annotation(title="Avslutat")

    # --- callbacks: one line into the services each ---------------------------------

    # The receipt is made in the background (documents.tasks), whatever the application's
    # length; the database queue takes the task in the submission's transaction. `work` is
    # the grants service's state change (grants.process; workflows.process runs these nodes).

    def start_case(self, activation: Activation, *, work: Callable[[], Application]) -> GrantProcess:
        activation.process.application = work()
        tasks.produce_receipt.enqueue(application_pk=activation.process.application.pk)
        return activation.process

    def start_sponsored_case(self, activation: Activation, *, work: Callable[[], Application]) -> GrantProcess:
        activation.process.application = work()
        tasks.produce_receipt.enqueue(application_pk=activation.process.application.pk)
        return activation.process

    def completion_received(self, activation: Activation, *, work: Callable[[], T]) -> T:
        return work()

    def report_received(self, activation: Activation, *, work: Callable[[], T]) -> T:
        return work()

    def payments_settled(self, activation: Activation) -> None:
        pass

    def produce_decision_letter(self, activation: Activation) -> None:
        # The PDF is slow work: it runs once the decision is committed. A committee's
        # letters go out together for the whole meeting (documents.batches), once the
        # protocol is approved, so that they can name the appeal period.
        decision = _case(activation).decision
        if not decision.by_committee:
            transaction.on_commit(lambda: letters.decision_letter_send(decision.pk))

    def produce_repayment_letter(self, activation: Activation) -> None:
        application_pk = activation.process.application_id
        transaction.on_commit(lambda: letters.repayment_letter_send(application_pk))

    def close_case(self, activation: Activation) -> None:
        # A system step: the history shows it as done by the system, not by a person.
        follow_up.application_close(application=_case(activation), by=None)

    # --- who sees the flow in the staff interface -----------------------------------

    def has_view_permission(self, user: User | AnonymousUser, obj: Model | None = None) -> bool:
        # obj is a case's process (its page) or task (a task's pages, through the nodes'
        # can_view): staff see it only in the committees they work for (access.may_see_case).
        if not access.works_in_staff_interface(user):
            return False
        if obj is None or access.committee_scope(user) is None:
            return True
        process = obj.coerced_process if isinstance(obj, AbstractTask) else obj
        if isinstance(process, Process) and not isinstance(process, GrantProcess):
            process = process.coerced
        if not isinstance(process, GrantProcess):
            return False
        return bool(access.may_see_case(user, process.application))
