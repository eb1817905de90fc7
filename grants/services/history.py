"""The case's history for code outside the lifecycle's services (the register, retention, the
committee's papers): the one public way to write a CaseEvent."""

from ._base import record_event

__all__ = ["record_event"]
