"""Drive `kubetune dashboard` in a real headless Chromium (Debian's chromium and
chromedriver, through Selenium).

Missing Chromium skips the browser tests with the command that installs it, except with
KUBETUNE_REQUIRE_BROWSER=1 (CI), where it fails. Every wait is on a condition seen in
the page, with timeouts generous enough for a loaded 2-core machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

BROWSER_REQUIRED = os.environ.get("KUBETUNE_REQUIRE_BROWSER") == "1"
INSTALL = "apt-get install -y chromium chromium-driver"
WAIT_S = 90.0
# Where the tests leave screenshots of what they saw (docs/img takes them from here).
SCREENSHOTS = os.environ.get("KUBETUNE_SCREENSHOTS")
URL_LINE = re.compile(r"(http://\S+)/dashboard")
PARCOORDS_AXES = "return document.querySelectorAll('#plot-parallel-coordinate g.y-axis').length"
PARCOORDS_TITLES = "#plot-parallel-coordinate .axis-title"
HISTORY_POINTS = "return document.querySelectorAll('#plot-history path.point').length"


def chromium_or_skip() -> tuple[str, str]:
    found = shutil.which("chromium"), shutil.which("chromedriver")
    if None in found:
        missing = f"Chromium and its driver are not installed ({INSTALL})"
        if BROWSER_REQUIRED:
            pytest.fail(f"KUBETUNE_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
        pytest.skip(missing)
    return str(found[0]), str(found[1])


@contextlib.contextmanager
def headless_chromium() -> Iterator[WebDriver]:
    binary, driver = chromium_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--enable-unsafe-swiftshader"):  # fmt: skip
        options.add_argument(argument)  # WebGL (parallel coordinates) in software
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield browser
    finally:
        browser.quit()


@contextlib.contextmanager
def dashboard_serving(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`kubetune dashboard ARGS` on a free port; yields its base URL."""
    command = [sys.executable, "-m", "kubetune.cli", "dashboard", "--port", "0",
               "--refresh", "1", *args]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the address, once it listens ("" if it died)
        found = URL_LINE.search(first)
        assert found, f"kubetune dashboard printed {first!r}, exit status {process.poll()}"
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


class DashboardPage:
    """The pages of one experiment, as a person would open them."""

    def __init__(self, browser: WebDriver, url: str) -> None:
        self.browser, self.url = browser, url
        self.study = ""

    def until(self, check: object, what: str) -> object:
        wait = WebDriverWait(self.browser, WAIT_S, poll_frequency=0.3)
        return wait.until(lambda _: check(), message=what)  # type: ignore[operator]

    def open_experiment(self, name: str) -> None:
        """From the experiments list, click the experiment."""
        self.browser.get(f"{self.url}/dashboard")
        self.until(lambda: self.link_to(name), f"{name} in the experiments list")
        self.browser.find_element(By.PARTIAL_LINK_TEXT, name).click()
        self.until(lambda: "/studies/" in self.browser.current_url, f"{name}'s page")
        self.study = self.browser.current_url.rstrip("/")
        self.shoot("experiments.png")

    def link_to(self, name: str) -> bool:
        """Whether the list shows `name`, reloading it if not: the list does not poll."""
        if self.browser.find_elements(By.PARTIAL_LINK_TEXT, name):
            return True
        self.browser.refresh()
        return False

    def trial_count(self) -> int:
        """The count the trials page shows; it polls the server every 2 seconds."""
        if not self.browser.current_url.endswith("/trials"):
            self.browser.get(f"{self.study}/trials")
        found = re.search(r"(\d+) Trials", self.browser.find_element(By.TAG_NAME, "body").text)
        return int(found.group(1)) if found else 0

    def wait_for_trials(self, more_than: int) -> int:
        self.until(lambda: self.trial_count() > more_than, f"more than {more_than} trials")
        return self.trial_count()

    def wait_for_history_points(self, at_least: int) -> None:
        """Until the history plot shows `at_least` points: a trial the page counts may
        still be running in the dashboard's last sync, and the plot shows finished ones."""
        self.browser.get(self.study)
        self.until(lambda: self.history_point_count() >= at_least, f"{at_least} history points")
        self.shoot("history.png")

    def history_point_count(self) -> int:
        return int(self.browser.execute_script(HISTORY_POINTS))

    def parallel_coordinate_axes(self) -> list[str]:
        """The parallel-coordinates plot's axes (SVG over its WebGL lines), by title."""
        self.browser.get(f"{self.study}/smartSelection")
        self.until(lambda: self.browser.execute_script(PARCOORDS_AXES), "parallel coordinates")
        self.shoot("parallel-coordinates.png")
        titles = self.browser.find_elements(By.CSS_SELECTOR, PARCOORDS_TITLES)
        return [title.text for title in titles]

    def shoot(self, name: str) -> None:
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            self.browser.save_screenshot(str(Path(SCREENSHOTS) / name))
