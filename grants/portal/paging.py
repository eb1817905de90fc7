"""Pages of a list an applicant sees, without counting the whole list: one row more than a
page is read, which tells whether there is a next page. An association with a thousand
applications costs what one with ten does."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

PER_PAGE = 20


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    has_next: bool
    previous_url: str
    next_url: str

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def is_paged(self) -> bool:
        return self.has_next or self.has_previous


def _url(request: HttpRequest, parameter: str, number: int) -> str:
    query = request.GET.copy()
    if number > 1:
        query[parameter] = str(number)
    else:
        query.pop(parameter, None)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else request.path


def page_of(
    queryset: QuerySet[Any], request: HttpRequest, *, parameter: str = "sida", per_page: int = PER_PAGE
) -> Page:
    """The page the request asks for (?sida=N; a bad or too large number gives page 1 or an
    empty last page, never an error)."""
    try:
        number = max(1, min(int(request.GET.get(parameter, "1")), 100_000))
    except ValueError:
        number = 1
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    has_next = len(rows) > per_page
    return Page(
        items=rows[:per_page],
        number=number,
        has_next=has_next,
        previous_url=_url(request, parameter, number - 1) if number > 1 else "",
        next_url=_url(request, parameter, number + 1) if has_next else "",
    )
