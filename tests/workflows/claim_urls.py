"""The site's URLs with finance's repayment-claim pages (workflows.finance.claim_urls) under
/staff/utbetalningar/, for the tests, as long as config/urls.py does not list them itself."""

from django.urls import include, path

from config import urls as site
from workflows import finance

_finance = list(site.finance_urls[0])
_names = {pattern.name for pattern in _finance}
finance_urls = (_finance + [pattern for pattern in finance.claim_urls if pattern.name not in _names], "finance")

urlpatterns = [path("staff/utbetalningar/", include(finance_urls))] + [
    pattern for pattern in site.urlpatterns if str(pattern.pattern) != "staff/utbetalningar/"
]
