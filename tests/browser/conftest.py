"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driving the pages of a
whole running Packyard, through its gateway (the ``gw`` fixture of tests/conftest.py).

Every page a test visits is checked with axe-core (vendored under ``vendor/``) and saved as a
full-page screenshot under the run's artifacts directory: ``$PACKYARD_TEST_ARTIFACTS/browser``
(default ``var/test-artifacts/browser``), named ``<test>-<nn>-<page>.png``.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.10.2.min.js"
CHROMIUM = os.environ.get("PACKYARD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PACKYARD_CHROMEDRIVER", "/usr/bin/chromedriver")
# What axe checks: WCAG 2.1 A and AA rules. Findings of these impacts fail a test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}


def artifacts_dir() -> Path:
    base = Path(os.environ.get("PACKYARD_TEST_ARTIFACTS") or ROOT / "var" / "test-artifacts")
    path = base / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _chromium(tmp_path_factory, *, javascript: bool = True):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: run `make install` (requirements-dev.txt)")
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(binary):
            pytest.fail(f"{binary} is missing: install Debian's chromium and chromium-driver "
                        f"(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=en-US", "--no-first-run",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    chrome = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    chrome.set_page_load_timeout(30)
    chrome.set_script_timeout(30)
    return chrome


@pytest.fixture(scope="session")
def driver(tmp_path_factory):
    chrome = _chromium(tmp_path_factory)
    yield chrome
    chrome.quit()


@pytest.fixture(scope="session")
def driver_without_javascript(tmp_path_factory):
    """Chromium with JavaScript switched off: the pages' own script never runs (axe still can, through
    WebDriver, which is not the page's JavaScript)."""
    chrome = _chromium(tmp_path_factory, javascript=False)
    yield chrome
    chrome.quit()


def _replaced(element) -> bool:
    """Whether ``element`` left the document (the page it was on was replaced by the next one).

    Chromium reports a node of a page being replaced either as a stale element or, while the new
    document is being attached, as an inspector error saying the node does not belong to the
    document; both mean the old page is gone."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise


class Browser:
    """One visitor's browser on the platform's gateway, checking and photographing each page."""

    def __init__(self, driver, base_url: str, name: str, *, axe: bool = True) -> None:
        self.driver = driver
        self.check_with_axe = axe
        self.base = base_url
        self.name = re.sub(r"[^A-Za-z0-9_-]+", "-", name)[:60]
        self.count = 0
        self.dir = artifacts_dir()
        self.axe_source = AXE.read_text()

    # -- navigation ------------------------------------------------------------------------
    def open(self, path: str, name: str | None = None) -> Browser:
        self.driver.get(self.base + path)
        return self.page(name or path)

    def page(self, name: str) -> Browser:
        """The page now shown: check its accessibility and save a screenshot."""
        if self.check_with_axe:
            self.assert_accessible()
        self.screenshot(name)
        return self

    @property
    def path(self) -> str:
        return self.driver.current_url[len(self.base):]

    def find(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def fill(self, fields: dict[str, str]) -> Browser:
        for name, value in fields.items():
            element = self.find(f"#f-{name}")
            element.clear()
            element.send_keys(value)
        return self

    def click(self, css: str, name: str | None = None) -> Browser:
        """Click; when that loads a page (a link, a submit button), wait until the new one is there."""
        from selenium.webdriver.support.wait import WebDriverWait

        element = self.find(css)
        loads = element.tag_name == "a" or (element.get_attribute("type") or "").lower() == "submit"
        before = self.find("html")
        element.click()
        if loads:
            WebDriverWait(self.driver, 30).until(lambda _driver: _replaced(before))
        if name:
            self.page(name)
        return self

    def submit(self, form_css: str, name: str | None = None, button: str = "button[type=submit]") -> Browser:
        return self.click(f"{form_css} {button}", name)

    def value(self, name: str) -> str:
        return self.find(f"#f-{name}").get_attribute("value")

    def error(self, name: str) -> str:
        return self.find(f"#e-{name}").text

    def cookie(self, name: str) -> dict | None:
        return self.driver.get_cookie(name)

    # -- checks ----------------------------------------------------------------------------
    def axe(self) -> list[dict]:
        self.driver.execute_script(self.axe_source)
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))"
            ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
            AXE_TAGS)

    def assert_accessible(self) -> None:
        serious = [v for v in self.axe() if v["impact"] in FAILING_IMPACTS]
        assert not serious, f"accessibility violations on {self.path}: {serious}"

    def screenshot(self, name: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or "page"
        path = self.dir / f"{self.name}-{self.count:02d}-{slug}.png"
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": max(size["width"], 1280), "height": min(size["height"], 6000),
                     "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@pytest.fixture
def browser(driver, gw, request):
    driver.delete_all_cookies()
    driver.get(gw.url + "/ui/static/packyard.css")  # an origin for the cookie jar, then a clean one
    driver.delete_all_cookies()
    return Browser(driver, gw.url, request.node.name)


@pytest.fixture
def browser_without_javascript(driver_without_javascript, gw, request):
    driver_without_javascript.delete_all_cookies()
    return Browser(driver_without_javascript, gw.url, request.node.name, axe=False)
