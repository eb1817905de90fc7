"""Where the lifecycle's queries go: one case of tests/bench.py's lifecycle(), step by
step, its queries grouped by the shape of their SQL (and, with -v, where each was made).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/grants .venv/bin/python -m tests.bench_steps [-v]

Runs in bench's throwaway database (so not while tests.bench runs), with a warm-up case
first, not counted, as bench has.
"""

import collections
import re
import sys
import traceback
from pathlib import Path

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from tests import bench  # sets Django up

ROOT = str(Path(__file__).resolve().parent.parent) + "/"
STEPS = (
    "application_submit",
    "completeness_confirm",
    "assessment_record",
    "decision_make",
    "payments_attest",
    "payment_file_create",
    "payments_mark_paid",
    "follow_up_submit",
    "follow_up_review",
)


def shape(sql):
    """SAVEPOINT, RELEASE, or the statement's verb and first table."""
    sql = sql.strip()
    verb = sql.split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return verb
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
    lock = " FOR UPDATE" if "FOR UPDATE" in sql else ""
    return f"{verb} {table.group(1) if table else '?'}{lock}"


def origin():
    """The innermost frames of the project's own code that made the query."""
    frames = [
        f
        for f in traceback.extract_stack()
        if f.filename.startswith(ROOT) and "/.venv/" not in f.filename and "/tests/bench" not in f.filename
    ]
    return " < ".join(f"{f.filename[len(ROOT) :]}:{f.lineno} {f.name}" for f in reversed(frames[-3:]))


class Steps:
    """The queries of each step: bench counts with the connection's query log, which also
    holds BEGIN and COMMIT; a wrapper around execute sees the rest and says where each was made."""

    def __init__(self):
        self.marks = []  # (step, index in the query log)
        self.origins = []

    def mark(self, step):
        self.marks.append((step, len(connection.queries_log)))

    def __call__(self, execute, sql, params, many, context):
        self.origins.append(origin())
        return execute(sql, params, many, context)

    def per_step(self, logged):
        """{step: [(shape, origin, sql)]} from the query log of the whole case."""
        origins = iter(self.origins)
        rows = [
            (shape(q["sql"]), "" if q["sql"] in ("BEGIN", "COMMIT", "ROLLBACK") else next(origins, "?"), q["sql"])
            for q in logged
        ]
        bounds = [index for _, index in self.marks] + [len(rows)]
        return {step: rows[bounds[i] : bounds[i + 1]] for i, (step, _) in enumerate(self.marks)}


def lifecycle_in_steps(world, application, steps):
    """bench.lifecycle(), with the step named before each call it makes."""
    import documents.payment_files as payment_files
    from grants.services import apply, assess, decide, follow_up, pay

    marks = iter(STEPS)

    def mark(function):
        def marked(*args, **kwargs):
            steps.mark(next(marks))
            return function(*args, **kwargs)

        return marked

    originals = [
        (apply, "application_submit"),
        (assess, "completeness_confirm"),
        (assess, "assessment_record"),
        (decide, "decision_make"),
        (pay, "payments_attest"),
        (payment_files, "payment_file_create"),
        (pay, "payments_mark_paid"),
        (follow_up, "follow_up_submit"),
        (follow_up, "follow_up_review"),
    ]
    saved = [(module, name, getattr(module, name)) for module, name in originals]
    for module, name, function in saved:
        setattr(module, name, mark(function))
    try:
        with connection.execute_wrapper(steps):
            done = bench.lifecycle(world, application)
    finally:
        for module, name, function in saved:
            setattr(module, name, function)
    return done


def main():
    from django.conf import settings
    from django.db import reset_queries

    verbose = "-v" in sys.argv
    storages = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    with (
        override_settings(
            STORAGES=storages, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", DEBUG=False
        ),
        bench.throwaway_database(),
    ):
        world = bench.make_world()
        bench.lifecycle(world, bench.make_draft(world, "warm-up"))
        drafts = [bench.make_draft(world, index) for index in range(2)]
        lifecycle_in_steps(world, drafts[0], Steps())  # a second warm-up: caches settle
        steps = Steps()
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            lifecycle_in_steps(world, drafts[1], steps)
        per_step = steps.per_step(captured.captured_queries)
    total = 0
    for step in STEPS:
        queries = per_step.get(step, [])
        total += len(queries)
        print(f"\n== {step}: {len(queries)}")
        for name, count in collections.Counter(q[0] for q in queries).most_common():
            print(f"   {count:3d}  {name}")
        if verbose:
            for name, where, _sql in queries:
                print(f"      {name:40s} {where}")
    print(f"\ntotal: {total}")


if __name__ == "__main__":
    main()
