"""The annual grant report on a million grants, on PostgreSQL (run from tests.bench):

* annual_report_load_s: loading the year into the database, server-side (INSERT … SELECT
  FROM generate_series): REPORT_GRANTS decided applications of one year over 3 committees,
  9 programmes and 18 calls, a tenth as many organisations (some granted by two committees,
  some also the year before), payments (most paid, some failed and paid again), a few
  thousand repayment claims, undecided, withdrawn and draft cases, then ANALYZE.
* annual_report_1m_s / annual_report_raw_sql_1m_s: grants.annual_report.annual_report() for
  that year, and the same figures by hand-written SQL, best of 3 after a warm-up each; the
  two must give equal figures. annual_report_ratio is ours / raw (goal ≤ 1.2).
* annual_report_page_queries: the queries of the report page (reports:annual) for the year;
  the queries for an empty year go to stderr.
"""

import os
import time
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

REPORT_GRANTS = int(os.environ.get("BENCH_REPORT_GRANTS", 1_000_000))
YEAR = 2024  # a year no other part of the bench uses
EMPTY_YEAR = 2019
RUNS = 3
DISTRICTS = ["Fisksätra", "Saltsjöbaden", "Boo", "Älta", "Sicklaön", ""]
AREAS = ["Barn och unga", "Jämställdhet", "Integration", "Folkhälsa", ""]
GROUPS = ["Barn 7–12 år", "Unga 13–25 år", "Äldre", ""]
ZERO = Decimal("0.00")


def tables():
    from grants.models import Application, Call, Committee, Decision, Organisation, Payment, Programme, RepaymentClaim

    return {
        name: model._meta.db_table
        for name, model in {
            "application": Application,
            "call": Call,
            "committee": Committee,
            "decision": Decision,
            "organisation": Organisation,
            "payment": Payment,
            "programme": Programme,
            "claim": RepaymentClaim,
        }.items()
    }


# --- the load --------------------------------------------------------------------------


def configuration():
    """3 committees × 3 programmes, each with 2 calls in the year and 1 the year before.
    Returns the calls' ids."""
    from grants.models import Programme
    from tests import factories

    committees = [
        factories.committee(code, name)
        for code, name in (
            ("RKFN", "Kultur- och fritidsnämnden (rapport)"),
            ("RSN", "Socialnämnden (rapport)"),
            ("RUBN", "Utbildningsnämnden (rapport)"),
        )
    ]
    calls, earlier_calls = [], []
    for c, committee in enumerate(committees):
        for p, kind in enumerate(factories.PROGRAMMES):
            _name, calculator, params, limit, plan, follow_up = factories.PROGRAMMES[kind]
            programme = Programme.objects.create(
                committee=committee,
                slug=f"rapport-{c}-{p}",
                name=f"{committee.code} bidragsform {p + 1}",
                calculator=calculator,
                calculator_params=params,
                delegation_limit=Decimal(limit),
                payment_plan=plan,
                follow_up_required=follow_up,
            )
            calls += [factories.call(programme, year=YEAR, budget="100000000") for _ in range(2)]
            earlier_calls.append(factories.call(programme, year=YEAR - 1, budget="100000000"))
    return {"calls": [call.pk for call in calls], "earlier_calls": [call.pk for call in earlier_calls]}


def insert(model, values, source):
    """INSERT INTO the model's table SELECT `values` (column: SQL expression) FROM `source`.
    Columns not given get the field's default (or NULL; the id its next number), so that a
    field added later with a default needs nothing here. Returns the statement and its
    parameters."""
    unknown = set(values) - {field.column for field in model._meta.concrete_fields}
    if unknown:
        raise SystemExit(f"bench: {model.__name__} has no column {', '.join(sorted(unknown))}")
    columns, expressions, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in values:
            continue  # the database numbers the row
        columns.append(connection.ops.quote_name(field.column))
        if field.column in values:
            expressions.append(values[field.column])
            continue
        default = field.get_default()
        if default is None and not field.null:
            raise SystemExit(f"bench: {model.__name__}.{field.name} has no default; give it a value in {__name__}")
        name = f"default_{model._meta.model_name}_{field.column}"
        params[name] = field.get_db_prep_save(default, connection)
        expressions.append(f"%({name})s")
    return (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)})\nSELECT {', '.join(expressions)}\n{source}",
        params,
    )


def statements(sizes):
    """The load, statement by statement. i numbers the cases, o the organisations; every
    figure is a function of them, so the database makes the rows without Python."""
    from grants.models import Application, Decision, Organisation, Payment, RepaymentClaim

    grants, orgs, earlier, open_cases, year = (
        sizes[key] for key in ("grants", "orgs", "earlier", "open_cases", "year")
    )
    application, decision = Application._meta.db_table, Decision._meta.db_table
    granted_case = "d.outcome <> 'rejected' AND d.application_id BETWEEN %(a0)s + 1 AND %(a0)s + " + str(grants)
    number = "(d.application_id - %(a0)s)"
    day = f"make_timestamptz({year}, 1 + i %% 12, 1 + i %% 28, 0, 0, 0, 'Europe/Stockholm')"
    return [
        # Organisations: associations with an organisationsnummer each, in six districts.
        insert(
            Organisation,
            {
                "id": "%(o0)s + o",
                "kind": "'association'",
                "name": "'Förening ' || o",
                "org_number": "substr((7000000000 + o)::text, 1, 6) || '-' || substr((7000000000 + o)::text, 7, 4)",
                "bankgiro": "'5050-1055'",
                "district": "(%(districts)s::text[])[1 + o %% 6]",
            },
            f"FROM generate_series(1, {orgs}) AS o",
        ),
        # The year's decided cases. An organisation applies to its own committee (o % 3);
        # every tenth one also to the next committee, so some are granted by two.
        insert(
            Application,
            {
                "id": "%(a0)s + i",
                "call_id": "(%(calls)s::int[])[1 + committee * 6 + ((i / 7) %% 3) * 2 + ((i / 3) %% 2)]",
                "organisation_id": "%(o0)s + o",
                "created_by_id": "%(applicant)s",
                "status": "CASE WHEN i %% 10 = 0 THEN 'rejected' WHEN i %% 10 IN (1, 2) THEN 'partly_approved' "
                "WHEN i %% 10 = 9 THEN 'closed' ELSE 'approved' END",
                "case_number": f"'R {year}/' || i",
                "title": "'Ansökan ' || i",
                "description": "'Verksamhet för barn och unga.'",
                "period_start": f"DATE '{year}-01-01'",
                "period_end": f"DATE '{year}-12-31'",
                "requested_amount": "1000 + (i * 37) %% 49000",
                "priority_area": "(%(areas)s::text[])[1 + (i / 11) %% 5]",
                "target_group": "(%(groups)s::text[])[1 + (i / 13) %% 4]",
                "created_at": "submitted",
                "updated_at": "submitted",
                "submitted_at": "submitted",
            },
            f"""FROM (SELECT i, o,
                     CASE WHEN o %% 10 = 0 AND (i / {orgs}) %% 2 = 1 THEN (o + 1) %% 3 ELSE o %% 3 END AS committee,
                     make_timestamptz({year}, 1, 1, 0, 0, 0, 'Europe/Stockholm') + ((i * 13) %% 330) * interval '1 day'
                     + ((i * 7919) %% 86400) * interval '1 second' AS submitted
              FROM (SELECT i, 1 + i %% {orgs} AS o FROM generate_series(1::bigint, {grants}) AS i) AS numbered
             ) AS cases""",
        ),
        insert(
            Decision,
            {
                "application_id": "id",
                "outcome": "CASE WHEN status IN ('approved', 'closed') THEN 'approved' ELSE status END",
                "amount": "CASE WHEN status = 'rejected' THEN 0 WHEN status = 'partly_approved' "
                "THEN round(requested_amount * 0.6) ELSE requested_amount END",
                "reasons": "'Motivering.'",
                "decided_by_id": "%(decider)s",
                "delegation_point": "'4.2'",
                "decided_at": "submitted_at + (3 + (id - %(a0)s) %% 60) * interval '1 day' "
                "+ ((id - %(a0)s) %% 5) * interval '1 hour'",
            },
            f"FROM {application} WHERE id BETWEEN %(a0)s + 1 AND %(a0)s + {grants}",
        ),
        # Payments: one part, or 85 % now and 15 % after the follow-up report (withheld); most
        # paid, some still planned, and a failed payment paid again for every 101st case.
        insert(
            Payment,
            {
                "application_id": "d.application_id",
                "sequence": "part.sequence",
                "percent": "part.percent",
                "amount": "round(d.amount * part.percent / 100, 2)",
                "release": "part.release",
                "status": "part.status",
                "payee_name": "CASE WHEN part.sent THEN 'Förening' ELSE '' END",
                "payee_scheme": "CASE WHEN part.sent THEN 'bankgiro' ELSE '' END",
                "payee_account": "CASE WHEN part.sent THEN '50501055' ELSE '' END",
                "decided_by_id": "%(decider)s",
                "attested_by_id": "CASE WHEN part.sent THEN %(attester)s END",
                "attested_at": "CASE WHEN part.sent THEN d.decided_at + interval '1 day' END",
                "batch_id": "CASE WHEN part.sent THEN (%(batches)s::int[])[extract(month FROM d.decided_at)::int] END",
                "paid_at": "CASE WHEN part.status = 'paid' THEN d.decided_at + interval '5 days' END",
                "paid_by_id": "CASE WHEN part.status = 'paid' THEN %(attester)s END",
                "failure_reason": "CASE WHEN part.status = 'failed' THEN 'Kontot finns inte.' ELSE '' END",
                "replaces_id": "NULL",
            },
            f"""FROM {decision} AS d
               CROSS JOIN LATERAL (
                   SELECT * FROM (VALUES
                       (1, CASE WHEN {number} %% 4 = 0 THEN 85 ELSE 100 END, 'decision',
                        CASE WHEN {number} %% 13 = 0 THEN 'planned' ELSE 'paid' END, {number} %% 13 <> 0),
                       (1, 100, 'decision', 'failed', true),
                       (2, 15, 'follow_up', 'withheld', false)
                   ) AS parts (sequence, percent, release, status, sent)
                   WHERE (parts.status <> 'failed' OR ({number} %% 101 = 0 AND {number} %% 4 <> 0))
                     AND (parts.sequence = 1 OR {number} %% 4 = 0)
               ) AS part
               WHERE {granted_case}""",
        ),
        # Repayment claims after rejected follow-up reports: a few thousand, half of them repaid.
        insert(
            RepaymentClaim,
            {
                "application_id": "d.application_id",
                "amount": "round(d.amount / 4)",
                "reasons": "'Underkänd återrapport.'",
                "due_on": f"DATE '{year}-12-31'",
                "decided_by_id": "%(decider)s",
                "decided_at": "d.decided_at + interval '200 days'",
                "status": "CASE WHEN d.application_id %% 2 = 0 THEN 'repaid' ELSE 'open' END",
                "repaid_amount": "CASE WHEN d.application_id %% 2 = 0 THEN round(d.amount / 4) "
                "ELSE round(d.amount / 10) END",
                "repaid_on": f"CASE WHEN d.application_id %% 2 = 0 THEN DATE '{year}-12-01' END",
            },
            f"FROM {decision} AS d WHERE {number} %% 331 = 5 AND {granted_case}",
        ),
        # The year before: every third organisation granted by its own committee.
        insert(
            Application,
            {
                "id": f"%(a0)s + {grants} + i",
                "call_id": "(%(earlier_calls)s::int[])[1 + (o %% 3) * 3 + i %% 3]",
                "organisation_id": "%(o0)s + o",
                "created_by_id": "%(applicant)s",
                "status": "'approved'",
                "case_number": f"'E {year}/' || i",
                "title": "'Ansökan ' || i",
                "description": "'Förra året.'",
                "period_start": f"DATE '{year - 1}-01-01'",
                "period_end": f"DATE '{year - 1}-12-31'",
                "requested_amount": "5000",
                "created_at": "submitted",
                "updated_at": "submitted",
                "submitted_at": "submitted",
            },
            f"""FROM (SELECT i, 1 + (i * 3) %% {orgs} AS o,
                            make_timestamptz({year - 1}, 3, 1, 0, 0, 0, 'Europe/Stockholm')
                            + (i %% 200) * interval '1 day' AS submitted
                     FROM generate_series(1, {earlier}) AS i) AS cases""",
        ),
        insert(
            Decision,
            {
                "application_id": "id",
                "outcome": "'approved'",
                "amount": "5000",
                "reasons": "'Motivering.'",
                "decided_by_id": "%(decider)s",
                "decided_at": "submitted_at + interval '20 days'",
                "delegation_point": "'4.2'",
            },
            f"FROM {application} WHERE id BETWEEN %(a0)s + {grants} + 1 AND %(a0)s + {grants} + {earlier}",
        ),
        # Not decided yet, withdrawn after submission, and drafts (which no report counts).
        insert(
            Application,
            {
                "id": f"%(a0)s + {grants} + {earlier} + i",
                "call_id": "(%(calls)s::int[])[1 + i %% 18]",
                "organisation_id": f"%(o0)s + 1 + (i * 7) %% {orgs}",
                "created_by_id": "%(applicant)s",
                "status": "kind.status",
                "case_number": f"CASE WHEN kind.status = 'draft' THEN '' ELSE 'U {year}/' || i END",
                "title": "'Ansökan ' || i",
                "description": "'Ej beslutad.'",
                "period_start": f"DATE '{year}-01-01'",
                "period_end": f"DATE '{year}-12-31'",
                "requested_amount": "2000 + i %% 5000",
                "priority_area": "(%(areas)s::text[])[1 + i %% 5]",
                "created_at": "now()",
                "updated_at": "now()",
                "submitted_at": f"CASE WHEN kind.status <> 'draft' THEN {day} + interval '12 hours' END",
                "withdrawn_at": f"CASE WHEN kind.status = 'withdrawn' THEN {day} + interval '13 hours' END",
            },
            f"""FROM generate_series(1, {open_cases}) AS i
               CROSS JOIN LATERAL (SELECT CASE i %% 8 WHEN 0 THEN 'withdrawn' WHEN 1 THEN 'draft'
                                                      WHEN 2 THEN 'submitted' ELSE 'in_assessment' END AS status
                                  ) AS kind""",
        ),
        (
            f"SELECT setval(pg_get_serial_sequence('{Organisation._meta.db_table}', 'id'), "
            f"(SELECT max(id) FROM {Organisation._meta.db_table}))",
            {},
        ),
        (f"SELECT setval(pg_get_serial_sequence('{application}', 'id'), (SELECT max(id) FROM {application}))", {}),
    ]


def load(world):
    """The year's million grants, made by the database itself. Returns seconds."""
    import datetime as dt

    from grants.models import PaymentBatch

    started = time.perf_counter()
    config = configuration()
    batches = [
        PaymentBatch.objects.create(
            reference=f"RAPPORT-{YEAR}-{month:02d}",
            created_by=world["fia"],
            execution_date=dt.date(YEAR, month, 28),
            count=1,
            total=1,
        ).pk
        for month in range(1, 13)
    ]
    names = tables()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1000 FROM {names['organisation']}")
        o0 = cursor.fetchone()[0]
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1000 FROM {names['application']}")
        a0 = cursor.fetchone()[0]
    sizes = {
        "grants": REPORT_GRANTS,
        "orgs": REPORT_GRANTS // 10,
        "earlier": REPORT_GRANTS // 30,
        "open_cases": REPORT_GRANTS // 40,
        "year": YEAR,
    }
    params = {
        "o0": o0,
        "a0": a0,
        "calls": config["calls"],
        "earlier_calls": config["earlier_calls"],
        "batches": batches,
        "districts": DISTRICTS,
        "areas": AREAS,
        "groups": GROUPS,
        "applicant": world["anna"].pk,
        "decider": world["olle"].pk,
        "attester": world["fia"].pk,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for statement, defaults in statements(sizes):
            cursor.execute(statement, {**params, **defaults})
    with connection.cursor() as cursor:
        for table in names.values():
            cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


# --- the same figures by hand-written SQL ----------------------------------------------

RAW_CASES = """
    FROM {application} a
    JOIN {call} ca ON ca.id = a.call_id
    {decision_join} {decision} d ON d.application_id = a.id
    WHERE ca.year = %(year)s AND a.submitted_at IS NOT NULL
"""
GRANTED = "d.outcome IN ('approved', 'partly_approved')"

RAW = {
    # Every summed figure per programme, area and group at once; the summary and the
    # committee table are their sums.
    "grouped": """
        SELECT p.id, p.name, c.id, c.name, g.priority_area, g.target_group, g.applications, g.approved, g.partly,
               g.rejected, g.withdrawn, g.undecided, g.grants, g.applied, g.granted
        FROM (SELECT ca.programme_id, a.priority_area, a.target_group, count(*) AS applications,
                     count(*) FILTER (WHERE d.outcome = 'approved') AS approved,
                     count(*) FILTER (WHERE d.outcome = 'partly_approved') AS partly,
                     count(*) FILTER (WHERE d.outcome = 'rejected') AS rejected,
                     count(*) FILTER (WHERE a.status = 'withdrawn') AS withdrawn,
                     count(*) FILTER (WHERE d.id IS NULL AND a.status <> 'withdrawn') AS undecided,
                     count(*) FILTER (WHERE {granted}) AS grants,
                     sum(a.requested_amount) AS applied, coalesce(sum(d.amount), 0) AS granted
              {cases_left}
              GROUP BY 1, 2, 3) AS g
        JOIN {programme} p ON p.id = g.programme_id
        JOIN {committee} c ON c.id = p.committee_id
    """,
    "paid": """
        SELECT ca.programme_id, sum(pay.amount)
        FROM {payment} pay
        JOIN {application} a ON a.id = pay.application_id
        JOIN {call} ca ON ca.id = a.call_id
        WHERE pay.status = 'paid' AND ca.year = %(year)s AND a.submitted_at IS NOT NULL
        GROUP BY 1
    """,
    "claims": """
        SELECT coalesce(sum(cl.amount), 0), coalesce(sum(cl.repaid_amount), 0)
        FROM {claim} cl
        JOIN {application} a ON a.id = cl.application_id
        JOIN {call} ca ON ca.id = a.call_id
        WHERE ca.year = %(year)s AND a.submitted_at IS NOT NULL
    """,
    "median": """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.decided_at - a.submitted_at)::float8)
        {cases_inner}
    """,
    # An organisation is granted for the first time when its first granted year is this one.
    "organisations": """
        SELECT count(*), count(*) FILTER (WHERE first_year = %(year)s)
        FROM (SELECT min(ca.year) AS first_year
              FROM {application} a
              JOIN {call} ca ON ca.id = a.call_id
              JOIN {decision} d ON d.application_id = a.id
              WHERE ca.year <= %(year)s AND a.submitted_at IS NOT NULL AND {granted}
              GROUP BY a.organisation_id
              HAVING max(ca.year) = %(year)s) AS per_organisation
    """,
    # The organisations' sums once, and from them both the largest and those granted by
    # more than one committee.
    "organisation_tables": """
        WITH per_organisation AS (
            SELECT a.organisation_id, count(*) AS grants, sum(d.amount) AS granted,
                   min(p.committee_id) <> max(p.committee_id) AS several
            FROM {application} a
            JOIN {call} ca ON ca.id = a.call_id
            JOIN {programme} p ON p.id = ca.programme_id
            JOIN {decision} d ON d.application_id = a.id
            WHERE ca.year = %(year)s AND a.submitted_at IS NOT NULL AND {granted}
            GROUP BY a.organisation_id
        ), chosen AS (
            (SELECT 'largest' AS kind, * FROM per_organisation ORDER BY granted DESC, organisation_id LIMIT 10)
            UNION ALL
            (SELECT 'multi', * FROM per_organisation WHERE several ORDER BY granted DESC, organisation_id LIMIT 50)
        )
        SELECT chosen.kind, o.name, o.org_number, chosen.grants, chosen.granted, paid.amount, committees.count,
               committees.names
        FROM chosen
        JOIN {organisation} o ON o.id = chosen.organisation_id
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(pay.amount), 0) AS amount
            FROM {payment} pay
            JOIN {application} pa ON pa.id = pay.application_id
            JOIN {call} pc ON pc.id = pa.call_id
            WHERE pa.organisation_id = chosen.organisation_id AND pay.status = 'paid' AND pc.year = %(year)s
              AND pa.submitted_at IS NOT NULL
        ) AS paid
        CROSS JOIN LATERAL (
            SELECT count(DISTINCT c.id) AS count, string_agg(DISTINCT c.name, ', ' ORDER BY c.name) AS names
            FROM {application} ga
            JOIN {call} gc ON gc.id = ga.call_id
            JOIN {programme} gp ON gp.id = gc.programme_id
            JOIN {committee} c ON c.id = gp.committee_id
            JOIN {decision} gd ON gd.application_id = ga.id
            WHERE ga.organisation_id = chosen.organisation_id AND gc.year = %(year)s AND ga.submitted_at IS NOT NULL
              AND gd.outcome IN ('approved', 'partly_approved')
        ) AS committees
        ORDER BY chosen.kind, chosen.granted DESC, chosen.organisation_id
    """,
    # By month: one pass grouped by (month submitted, month decided), at most 13 × 13 rows.
    "months": """
        SELECT CASE WHEN a.submitted_at >= %(start)s AND a.submitted_at < %(end)s
                    THEN extract(month FROM a.submitted_at AT TIME ZONE %(zone)s) END,
               CASE WHEN d.decided_at >= %(start)s AND d.decided_at < %(end)s
                    THEN extract(month FROM d.decided_at AT TIME ZONE %(zone)s) END,
               count(*), count(d.id), coalesce(sum(d.amount), 0)
        {cases_left}
        GROUP BY 1, 2
    """,
}


def raw_sql():
    names = tables()
    cases_left = RAW_CASES.format(decision_join="LEFT JOIN", **names)
    cases_inner = RAW_CASES.format(decision_join="JOIN", **names)
    return {
        key: sql.format(cases_left=cases_left, cases_inner=cases_inner, granted=GRANTED, **names)
        for key, sql in RAW.items()
    }


def raw_report(statements, year):
    """The report's figures from the hand-written SQL, in the shape of AnnualReport: the
    summary and each table's rows (column keys only)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.conf import settings

    zone = ZoneInfo(settings.TIME_ZONE)
    params = {
        "year": year,
        "zone": settings.TIME_ZONE,
        "start": dt.datetime(year, 1, 1, tzinfo=zone),
        "end": dt.datetime(year + 1, 1, 1, tzinfo=zone),
    }
    results = {}
    with connection.cursor() as cursor:
        for key, sql in statements.items():
            cursor.execute(sql, params)
            results[key] = cursor.fetchall()

    def money(value):
        return Decimal(value or 0).quantize(ZERO)

    total = dict.fromkeys(("applications", "approved", "partly_approved", "rejected", "withdrawn", "undecided"), 0)
    total.update(applied=ZERO, granted=ZERO, paid=ZERO)
    programmes, committees, areas, groups, committee_of = {}, {}, {}, {}, {}
    paid = {programme_id: money(amount) for programme_id, amount in results["paid"]}
    for (
        programme_id,
        programme,
        committee_id,
        committee,
        area,
        group,
        applications,
        approved,
        partly,
        rejected,
        withdrawn,
        undecided,
        grants,
        applied,
        granted,
    ) in results["grouped"]:
        figures = {
            "applications": applications,
            "approved": approved,
            "partly_approved": partly,
            "rejected": rejected,
            "applied": money(applied),
            "granted": money(granted),
        }
        committee_of[programme_id] = committee_id
        for table, key, labels in (
            (programmes, programme_id, {"programme": programme, "committee": committee}),
            (committees, committee_id, {"committee": committee}),
        ):
            row = table.setdefault(
                key,
                {
                    **labels,
                    "applications": 0,
                    "approved": 0,
                    "partly_approved": 0,
                    "rejected": 0,
                    "applied": ZERO,
                    "granted": ZERO,
                    "paid": ZERO,
                },
            )
            for name, value in figures.items():
                row[name] += value
        for name, value in {**figures, "withdrawn": withdrawn, "undecided": undecided}.items():
            total[name] += value
        for table, name, value in ((areas, "priority_area", area), (groups, "target_group", group)):
            if grants:
                row = table.setdefault(
                    value or "Ej angivet", {name: value or "Ej angivet", "grants": 0, "granted": ZERO}
                )
                row["grants"] += grants
                row["granted"] += money(granted)
    for programme_id, amount in paid.items():
        programmes[programme_id]["paid"] += amount
        committees[committee_of[programme_id]]["paid"] += amount
        total["paid"] += amount
    ((reclaimed, repaid),) = results["claims"]
    ((median,),) = results["median"]
    ((organisations, first_time),) = results["organisations"]
    largest, multi = [], []
    for kind, name, org_number, grants, granted, organisation_paid, committee_count, committee_names in results[
        "organisation_tables"
    ]:
        if kind == "largest":
            largest.append(
                {
                    "organisation": name,
                    "org_number": org_number,
                    "grants": grants,
                    "granted": money(granted),
                    "paid": money(organisation_paid),
                }
            )
        else:
            multi.append(
                {
                    "organisation": name,
                    "org_number": org_number,
                    "committees": committee_count,
                    "committee_names": committee_names,
                    "granted": money(granted),
                }
            )
    months = {month: {"month": month, "applications": 0, "decisions": 0, "granted": ZERO} for month in range(1, 13)}
    for submitted_month, decided_month, applications, decisions, granted in results["months"]:
        if submitted_month:
            months[int(submitted_month)]["applications"] += applications
        if decided_month:
            months[int(decided_month)]["decisions"] += decisions
            months[int(decided_month)]["granted"] += money(granted)
    summary = {
        "applications": total["applications"],
        "approved": total["approved"],
        "partly_approved": total["partly_approved"],
        "rejected": total["rejected"],
        "withdrawn": total["withdrawn"],
        "undecided": total["undecided"],
        "applied_amount": total["applied"],
        "granted_amount": total["granted"],
        "paid_amount": total["paid"],
        "reclaimed_amount": money(reclaimed),
        "repaid_amount": money(repaid),
        "median_days_to_decision": None
        if median is None
        else (Decimal(repr(median)) / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        "organisations_granted": organisations,
        "organisations_first_time": first_time,
        "first_time_share": (Decimal(first_time) / organisations).quantize(Decimal("0.0001"))
        if organisations
        else None,
    }
    return summary, {
        "by_committee": sorted(committees.values(), key=lambda row: row["committee"]),
        "by_programme": sorted(programmes.values(), key=lambda row: (row["committee"], row["programme"])),
        "by_priority_area": sorted(areas.values(), key=lambda row: (-row["granted"], row["priority_area"])),
        "by_target_group": sorted(groups.values(), key=lambda row: (-row["granted"], row["target_group"])),
        "largest_recipients": largest,
        "multi_committee": multi,
        "by_month": list(months.values()),
    }


def shown(report):
    """Our report in the raw report's shape: the summary, and each table's column values."""
    return report.summary, {
        table.key: [{column.key: row[column.key] for column in table.columns} for row in table.rows]
        for table in report.tables
    }


# --- the figures -----------------------------------------------------------------------


def best_of_both(ours, raw, runs=RUNS):
    """Seconds of each, best of `runs` after a warm-up each, the two taking turns (each
    first every other run) so that the machine's drift hits both alike."""
    results = {ours: ours(), raw: raw()}  # warm-up, not measured
    times = {ours: [], raw: []}
    for run in range(runs):
        for work in (ours, raw) if run % 2 == 0 else (raw, ours):
            started = time.perf_counter()
            results[work] = work()
            times[work].append(time.perf_counter() - started)
    return (min(times[ours]), results[ours]), (min(times[raw]), results[raw])


def page_queries(year):
    from django.contrib.auth.models import User

    user = User.objects.filter(username="rapportchef").first() or User.objects.create_superuser(
        "rapportchef", "rapportchef@example.se", "demo"
    )
    client = Client()
    client.force_login(user)
    url = f"{reverse('reports:annual')}?year={year}"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"bench: the report page {url} answered {response.status_code}")
    return len(captured)


def bench_report(world, *, say, note):
    from grants.annual_report import ReportFilters, annual_report

    note(f"report: loading {REPORT_GRANTS:,} decided applications for {YEAR} …")
    say("annual_report_load_s", f"{load(world):.1f}")

    filters = ReportFilters(year=YEAR)
    statements = raw_sql()
    (ours_s, report), (raw_s, raw) = best_of_both(lambda: annual_report(filters), lambda: raw_report(statements, YEAR))
    ours = shown(report)
    if ours != raw:
        differences = [key for key in ours[0] if ours[0][key] != raw[0][key]]
        differences += [key for key in ours[1] if ours[1][key] != raw[1].get(key)]
        raise SystemExit(f"bench: the report and the hand-written SQL disagree on {differences}")
    if report.summary["applications"] < REPORT_GRANTS:
        raise SystemExit(f"bench: the report counts {report.summary['applications']} applications")
    note(
        f"report: {report.summary['applications']:,} applications, {report.summary['organisations_granted']:,} "
        f"organisations granted, {len(report.table('multi_committee').rows)} multi-committee rows"
    )
    say("annual_report_1m_s", f"{ours_s:.2f}")
    say("annual_report_raw_sql_1m_s", f"{raw_s:.2f}")
    say("annual_report_ratio", f"{ours_s / raw_s:.2f}")

    with CaptureQueriesContext(connection) as captured:
        annual_report(filters)
    try:
        reverse("reports:annual")
    except NoReverseMatch:
        note("report: no page at reports:annual yet, so the queries of annual_report() itself")
        say("annual_report_queries", len(captured))
        return
    full, empty = page_queries(YEAR), page_queries(EMPTY_YEAR)
    note(
        f"report: annual_report() makes {len(captured)} queries; the page {full} for {YEAR} "
        f"and {empty} for the empty year {EMPTY_YEAR}"
    )
    say("annual_report_page_queries", full)
