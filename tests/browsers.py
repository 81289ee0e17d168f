"""What the browser tests share: Debian's Chromium, driven by Playwright's sync API.

Each browser test module sets `pytestmark = BROWSER_TESTS` and imports the
`browser` fixture, so it gets a browser of its own, closed when the module ends.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"

BROWSER_TESTS = [
    # The live server's request threads must see what a test writes.
    pytest.mark.django_db(transaction=True),
    # In CI a missing Chromium is an error (the launch fails), never a silent skip.
    pytest.mark.skipif(not shutil.which(CHROMIUM) and not os.environ.get("CI"),
                       reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API runs an event loop in this thread, which Django
    # takes for async code; the ORM calls here are synchronous all the same,
    # and the live server's request threads have connections of their own
    # (tests/settings.py, tests/test_live_server.py).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


def only_the_live_server(context) -> None:
    """Abort every request that is not for the live server: pages must need no CDN."""
    context.route("**/*", lambda route: route.continue_()
                  if "127.0.0.1" in route.request.url or "localhost" in route.request.url else route.abort())
