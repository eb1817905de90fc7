"""What every visitor of the public catalogue sees, kept in the cache (issue 16: the catalogue
took 8× the server time of a bare page). Entries are keyed by a version that every change of a
programme, call or committee replaces (signals connected in GrantsConfig.ready), so a change
shows at once in every process that shares the cache; an entry also expires after
CATALOGUE_CACHE_SECONDS, which bounds what a change made without signals (a bulk update) or a
cache of each process's own memory can leave behind."""

import hashlib
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

T = TypeVar("T")
VERSION_KEY = "catalogue:version"
MISSING = "catalogue:missing"


def version() -> str:
    current = cache.get(VERSION_KEY)
    if current is None:
        try:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        except Exception:  # a shared cache that is down: pages are made from the database
            return ""
        current = cache.get(VERSION_KEY)
    return str(current or "")


def cached(name: str, parameters: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """compute()'s result for these parameters today, from the cache when it is there."""
    current = version()
    if not current:
        return compute()
    digest = hashlib.sha256(repr(parameters).encode()).hexdigest()[:32]
    key = f"catalogue:{current}:{name}:{timezone.localdate().isoformat()}:{digest}"
    found = cache.get(key)
    if found is not None:
        return found
    value = compute()
    cache.set(key, value, timeout=settings.CATALOGUE_CACHE_SECONDS)
    return value


def catalogue_changed(**kwargs: Any) -> None:
    """A programme, call or committee was saved or deleted: every cached page is out of date."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
