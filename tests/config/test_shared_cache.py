"""The shared cache (config/cache.py, CACHE_URL=redis://…) against the machine's Redis: sites
sharing one Redis keep apart, and a Redis that is down does not take the pages down."""

import uuid

import pytest
from django.urls import reverse

from config import health
from config.cache import UNREACHABLE, SharedCache
from grants.portal import cache as catalogue_cache
from tests import factories

REDIS = "redis://127.0.0.1:6379/3"
QUICK = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def shared(prefix, location=REDIS):
    return SharedCache(location, {"KEY_PREFIX": prefix, "OPTIONS": QUICK})


@pytest.fixture
def redis_up():
    cache = shared("probe")
    try:
        cache._cache.get_client(write=True).ping()
    except Exception as error:
        pytest.fail(f"Redis does not answer at {REDIS}: {error}")
    return cache


def test_two_sites_on_one_redis_keep_apart(redis_up):
    key = uuid.uuid4().hex
    one, other = shared("site-one"), shared("site-two")
    one.set(key, "ett", 30)
    assert one.get(key) == "ett" and other.get(key) is None
    assert one.add(key, "igen", 30) is False and other.add(key, "två", 30) is True
    assert one.add(key + "n", 0, 30) and one.incr(key + "n") == 1 and other.get(key + "n") is None
    for cache, name in ((one, key), (other, key), (one, key + "n")):
        cache.delete(name)


def test_a_redis_that_is_down_is_a_miss_for_reads_but_add_and_incr_raise():
    down = shared("down", "redis://127.0.0.1:1/0")
    assert down.get("x", "standard") == "standard" and down.get_many(["x", "y"]) == {}
    down.set("x", 1, 30)  # skipped, not raised
    assert down.delete("x") is False and down.has_key("x") is False
    with pytest.raises(UNREACHABLE):
        down.add("x", 1, 30)
    with pytest.raises(UNREACHABLE):
        down.incr("x")


@pytest.mark.django_db
def test_the_catalogue_and_health_with_redis_down(client, monkeypatch):
    factories.call(factories.programme("inkludering"))
    down = shared("down", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(catalogue_cache, "cache", down)
    monkeypatch.setattr(health, "cache", down)
    page = client.get(reverse("catalogue:list"))
    assert page.status_code == 200 and "Projektbidrag" in page.content.decode()
    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.json() == {"status": "fail", "failed": ["cache"]}
