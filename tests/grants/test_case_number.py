"""Case numbers (diarienummer): one gapless series per committee and year, never
repeated, never consumed by a submission that fails — also when many submit at once."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from grants.models import Application, CaseNumberSeries, Committee
from grants.services import apply

from .. import factories

YEAR = timezone.localdate().year


def submit(application, by):
    return apply.application_submit(application=application, by=by).case_number


@pytest.mark.django_db
def test_numbers_run_gapless_per_committee_and_year(anna, fisksatra, inclusion_call):
    numbers = [submit(factories.draft(inclusion_call, fisksatra, anna), anna) for _ in range(3)]
    assert numbers == [f"KFN {YEAR}/0001", f"KFN {YEAR}/0002", f"KFN {YEAR}/0003"]
    assert CaseNumberSeries.objects.get(committee__code="KFN", year=YEAR).last_number == 3


@pytest.mark.django_db
def test_a_second_committee_has_its_own_series(anna, fisksatra, inclusion_call):
    social = factories.committee("SON", "Socialnämnden")
    other_call = factories.call(factories.programme("verksamhet", committee_=social))
    assert submit(factories.draft(inclusion_call, fisksatra, anna), anna) == f"KFN {YEAR}/0001"
    assert submit(factories.draft(other_call, fisksatra, anna), anna) == f"SON {YEAR}/0001"
    assert submit(factories.draft(inclusion_call, fisksatra, anna), anna) == f"KFN {YEAR}/0002"
    assert submit(factories.draft(other_call, fisksatra, anna), anna) == f"SON {YEAR}/0002"


@pytest.mark.django_db
def test_a_new_year_starts_its_own_series(anna, fisksatra, inclusion_call):
    CaseNumberSeries.objects.create(committee=Committee.objects.get(code="KFN"), year=YEAR - 1, last_number=57)
    assert submit(factories.draft(inclusion_call, fisksatra, anna), anna) == f"KFN {YEAR}/0001"
    assert CaseNumberSeries.objects.get(year=YEAR - 1).last_number == 57


@pytest.mark.django_db
def test_a_submission_refused_because_the_call_closed_takes_no_number(anna, fisksatra, inclusion_call):
    closing = factories.call(inclusion_call.programme)
    first = factories.draft(inclusion_call, fisksatra, anna)
    late = factories.draft(closing, fisksatra, anna, title="För sent")
    assert submit(first, anna) == f"KFN {YEAR}/0001"
    type(closing).objects.filter(pk=closing.pk).update(
        opens_on=timezone.localdate() - dt.timedelta(days=9), closes_on=timezone.localdate() - dt.timedelta(days=1)
    )
    with pytest.raises(ValidationError):
        submit(late, anna)
    assert submit(factories.draft(inclusion_call, fisksatra, anna), anna) == f"KFN {YEAR}/0002"
    late.refresh_from_db()
    assert late.status == "draft" and late.case_number == ""


@pytest.mark.django_db
def test_a_submission_that_fails_after_taking_a_number_gives_it_back(anna, fisksatra, inclusion_call, monkeypatch):
    application = factories.draft(inclusion_call, fisksatra, anna)

    def broken(*args, **kwargs):
        raise RuntimeError("the audit row could not be written")

    with monkeypatch.context() as patch:
        patch.setattr(apply, "record_event", broken)
        with pytest.raises(RuntimeError):
            submit(application, anna)
    application.refresh_from_db()
    assert application.status == "draft" and application.case_number == ""
    assert not CaseNumberSeries.objects.filter(last_number__gt=0).exists()
    assert submit(application, anna) == f"KFN {YEAR}/0001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submissions_get_twenty_gapless_numbers(anna, fisksatra, inclusion_call):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    drafts = [factories.draft(inclusion_call, fisksatra, anna, title=f"Ansökan {i}") for i in range(20)]
    barrier = threading.Barrier(len(drafts))
    errors = []

    def submit_at_once(application):
        try:
            barrier.wait(timeout=30)
            apply.application_submit(application=application, by=anna)
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit_at_once, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    numbers = sorted(Application.objects.values_list("case_number", flat=True))
    assert numbers == [f"KFN {YEAR}/{n:04d}" for n in range(1, 21)]
    assert CaseNumberSeries.objects.get(committee__code="KFN", year=YEAR).last_number == 20
