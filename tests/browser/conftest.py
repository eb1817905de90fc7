"""Browser tests: Debian's Chromium driven by Playwright, with axe-core injected to check
each page against WCAG 2.1 A and AA. `make test` installs all three (chromium from apt,
playwright from the test extra, axe-core from the npm registry into var/npm)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GRANTS_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 375, "height": 740}

# The live server runs in a thread; Playwright's sync API runs an event loop in this one,
# which Django would otherwise take for an async context and refuse the ORM in fixtures.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Every page of every test notes what its Content-Security-Policy refused (an inline script,
# a style from elsewhere, …); axe_violations() reports them with axe's findings, so every page
# a test checks with axe is checked against the policy too.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.__cspViolations.push(`${event.violatedDirective} refused ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""


class CspWatchingBrowser:
    """The browser, whose every new context watches for Content-Security-Policy refusals."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.add_init_script(CSP_WATCH)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make test`, which installs Debian's chromium.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield CspWatchingBrowser(browser)
        browser.close()


def csp_violations(page):
    """What the page's Content-Security-Policy refused since it was loaded."""
    return page.evaluate("() => window.__cspViolations || []")


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale="sv-SE")
    page = context.new_page()
    yield page
    context.close()


def load_axe(page):
    """axe-core into the page as it is now. Evaluated by the browser's DevTools protocol, not
    added as a <script>: the pages' Content-Security-Policy refuses inline scripts, as it should."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make test`, which installs it from the npm registry.")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())


def axe_violations(page):
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, as readable lines."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make test`, which installs it from the npm registry.")
    load_axe(page)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [f"Content-Security-Policy: {refused}" for refused in csp_violations(page)] + [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(
            node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
            for node in violation["nodes"][:5]
        )
        for violation in result["violations"]
    ]


def checked(page):
    """No axe violation on the page, and nothing wider than the screen (WCAG 1.4.10, reflow)."""
    assert axe_violations(page) == [], page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"
    return page


def log_in(page, username, password="demo"):
    page.goto("/konto/logga-in/")
    page.get_by_label("E-postadress eller användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in", exact=True).click()
