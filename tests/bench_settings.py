"""The product's settings with the rush bench's extra page (tests/bench_urls.py): used only by
the gunicorn that tests/bench_rush.py starts, never by the product."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench_urls"
