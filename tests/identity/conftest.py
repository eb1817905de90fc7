"""The test OpenID Connect provider for the sign-in tests: started once per session (node
and oidc-provider from `make browser-deps`; skipped without them, failed when CI=true), and
the settings pointed at it for each test that asks."""

import pytest

from tests.oidc import provider_running


@pytest.fixture(scope="session")
def oidc_provider():
    with provider_running(["http://testserver"]) as provider:
        yield provider


@pytest.fixture
def oidc_settings(db, settings, oidc_provider):
    oidc_provider.settings(settings)
    return oidc_provider
