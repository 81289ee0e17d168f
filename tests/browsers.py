"""What the browser tests share: Debian's Chromium, driven by Playwright's sync API.

Each browser test module sets `pytestmark = BROWSER_TESTS` and asks for the
`browser` fixture (tests/conftest.py), so it gets a browser of its own, closed
when the module ends.
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
    # Seconds a test: `make test-fast` leaves them out, `make test` and CI run them.
    pytest.mark.slow,
]


def only_the_live_server(context) -> None:
    """Abort every request that is not for the live server: pages must need no CDN."""
    context.route("**/*", lambda route: route.continue_()
                  if "127.0.0.1" in route.request.url or "localhost" in route.request.url else route.abort())
