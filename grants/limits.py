"""How much an applicant may type, in one place: the limits of the portal's free texts and
counts. The portal's forms show each limit to the applicant and refuse more; the models,
the services and (where cheap) the database keep the same limits for every other route.

The text limits are generous for what each field is for and stop what no one writes by
hand: a 200 KB description made a 48-page receipt. The counts are plausible maxima for one
association's activity, not rules of a programme.
"""

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Call

TITLE = 200  # Application.title, a line
DESCRIPTION = 8_000  # Application.description: some three pages
LONG_TEXT = 5_000  # a completion answer, a follow-up report's texts, a question answered in a text box
SHORT_TEXT = 500  # a question answered on one line
NOTE = 2_000  # a withdrawal note, a sponsor's reason for declining
LABEL = 200  # a budget line or a cost line

MEMBERS = 100_000  # members of one association
SESSIONS = 1_000  # sessions (sammankomster) in one period: nearly three a day for a year
PARTICIPANTS = 10_000  # participants per session, or in one cell of the follow-up report's grid

# The project period must lie near the call: it starts at most a year before the call opens
# and ends at most five years after it closes.
PERIOD_YEARS_BEFORE_OPENING = 1
PERIOD_YEARS_AFTER_CLOSING = 5


def years_added(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (or earlier); 29 February becomes the 28th in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_bounds(call: "Call") -> tuple[dt.date, dt.date]:
    """(earliest start, latest end) of a project period for the call."""
    return (
        years_added(call.opens_on, -PERIOD_YEARS_BEFORE_OPENING),
        years_added(call.closes_on, PERIOD_YEARS_AFTER_CLOSING),
    )


def count_text(number: int) -> str:
    """A limit as the service messages write it, e.g. "10 000"."""
    return f"{number:,}".replace(",", " ")
