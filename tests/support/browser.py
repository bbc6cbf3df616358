"""Browser tests: Debian's Chromium driven by Playwright, against a real API and worker on a free port.

Playwright never downloads a browser here (`playwright install` is not used):
it drives the Chromium the Makefile's `test` target installs with apt. Every
page a test visits is saved as a screenshot under build/screenshots/, to look at.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from peerdigest.config import Settings
from tests.conftest import ROOT, start_cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "build" / "screenshots"


@dataclass
class RunningApp:
    """A started `peerdigest api` (and worker, when asked for) with the settings they share."""

    base_url: str
    settings: Settings
    processes: list[subprocess.Popen]

    def url(self, path: str) -> str:
        return self.base_url + path

    def start_worker(self) -> subprocess.Popen:
        worker = start_cli(self.settings, "worker")
        self.processes.append(worker)
        return worker

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


class Screenshots:
    """`shot(page, "evaluation")` saves build/screenshots/<test>-<n>-evaluation.png, numbered in order."""

    def __init__(self, test_name: str):
        self.prefix = re.sub(r"[^\w-]+", "_", test_name)
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name: str, *, full_page: bool = True) -> Path:
        """`full_page=False`: only what the screen shows (a phone's form, whose buttons stay at the bottom)."""
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


def sign_in(page, app: RunningApp, email: str) -> None:
    """Development sign-in as `email`, the way a person does it: pick the user on the sign-in page."""
    page.goto(app.url("/sign-in"))
    page.locator("form", has=page.locator(f'input[name="email"][value="{email}"]')).get_by_role("button").click()
    page.wait_for_load_state()
