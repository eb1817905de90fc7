"""The Content-Security-Policy in a real browser: an inline script is refused and the
refusal is noted, so the axe checks of every page (conftest.axe_violations, which reports
refusals too) would catch a page that needs one."""

import pytest

from .conftest import axe_violations, csp_violations, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_inline_script_is_refused_and_reported(page, olle):
    log_in(page, "olle")
    page.goto("/staff/cases/grant/queue/")
    assert csp_violations(page) == []
    # viewflow's own scripts run (from static files): its web components are defined.
    assert page.evaluate("() => document.querySelectorAll(':defined').length > 0 && !!window.customElements")
    assert page.evaluate(
        "() => [...document.querySelectorAll('*')].some(e => e.tagName.startsWith('VF-') && customElements.get(e.tagName.toLowerCase()))"
    )

    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__ran = true";
                   document.body.append(s); }"""
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("() => window.__ran") is None
    (refused,) = csp_violations(page)
    assert refused.startswith("script-src-elem refused inline")
    assert any(line.startswith("Content-Security-Policy: script-src-elem") for line in axe_violations(page))


def test_the_portal_login_form_works_under_the_policy(page, anna):
    log_in(page, "anna")
    assert page.url.endswith("/portal/") and csp_violations(page) == []
