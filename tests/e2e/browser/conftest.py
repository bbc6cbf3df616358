"""Fixtures of the browser tests: one Chromium per session, a real API + worker per test, screenshots."""

from __future__ import annotations

import os

import pytest

from peerdigest.dev.embedded_redis import free_port
from tests.conftest import start_cli
from peerdigest.testing.serving import wait_until_serving
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, RunningApp, Screenshots

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
        pytest.skip(f"no {CHROMIUM}: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page_in(browser, **options):
    # Chromium's locale decides the Accept-Language the pages are written in: English, as these tests read them.
    context = browser.new_context(**{"locale": "en-US", **options})
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.fixture
def page(browser):
    page = _page_in(browser, viewport={"width": 1100, "height": 800})
    yield page
    page.context.close()


@pytest.fixture
def phone_page(browser):
    """A page on a phone-sized screen, touch and all."""
    page = _page_in(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield page
    page.context.close()


@pytest.fixture
def shot(request):
    return Screenshots(request.node.name)


def _started(settings, *, worker: bool, scheduler: bool = False, port: int | None = None) -> RunningApp:
    port = port or free_port()
    api = start_cli(settings, "api", "--port", str(port))
    app = RunningApp(f"http://127.0.0.1:{port}", settings, [api])
    try:
        wait_until_serving(app.base_url, api)
        if worker:
            app.start_worker()
        if scheduler:
            app.processes.append(start_cli(settings, "scheduler"))
    except BaseException:
        app.stop()
        raise
    return app


@pytest.fixture
def web_app(process_demo_school):
    """The demo school behind a real `peerdigest api` and `peerdigest worker`."""
    app = _started(process_demo_school, worker=True)
    yield app
    app.stop()


@pytest.fixture
def web_app_without_worker(process_demo_school):
    """The demo school behind a real API with no worker running: queued jobs stay queued."""
    app = _started(process_demo_school, worker=False)
    yield app
    app.stop()


@pytest.fixture
def web_app_for_operators(process_demo_school):
    """The demo school behind a real API and worker, with admin@example.com the installation's administrator."""
    app = _started(process_demo_school.model_copy(update={"installation_admins": "admin@example.com"}), worker=True)
    yield app
    app.stop()
