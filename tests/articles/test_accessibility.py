"""axe-core in a real browser finds no critical or serious violation on any public page type.

axe-core (npm, pinned in package.json / package-lock.json, installed by
`make install` with `npm ci`) is injected into each page that Playwright opened
from the live server; the context bypasses the site's Content-Security-Policy
for that one script. Colour contrast, link distinguishability, landmarks,
image alternatives and names are checked on the rendered page.
"""

from __future__ import annotations

import os

import pytest

from tests.browsers import BROWSER_TESTS, only_the_live_server
from tests.factories import PROJECT, SEEDS
from tests.page_types import public_page_paths

AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    *BROWSER_TESTS,
    # In CI a missing axe-core is a failure (make install runs npm ci), never a silent skip.
    pytest.mark.skipif(not AXE.is_file() and not os.environ.get("CI"),
                       reason=f"axe-core not installed at {AXE} (make install runs npm ci; needs npm)"),
]

BLOCKING = ("critical", "serious")
# Rules the audit named, failed whatever axe's impact rating: the header's and
# the page's search forms were two search landmarks with one name.
ALSO_REQUIRED = ("landmark-unique",)

# A link in running text and a body image without alt, as imported bodies have.
BODY = ('<p>据<a href="https://example.com/report">公司公告</a>，券商加大投入，'
        '详见<a href="/archive/">归档</a>。</p><p><img src="https://img.example.com/chart.png"></p>')


@pytest.fixture
def site(live_server, run_import) -> dict[str, str]:
    """Name -> absolute URL of one page of every public type."""
    assert run_import(SEEDS).exit_code == 0
    return {name: live_server.url + path for name, path in public_page_paths(BODY).items()}


def blocking_violations(page, url: str) -> list[str]:
    """axe-core's critical and serious violations (and ALSO_REQUIRED's) on the page at `url`, one line per rule."""
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
            for v in results["violations"] if v["impact"] in BLOCKING or v["id"] in ALSO_REQUIRED]


def test_no_critical_or_serious_violation_on_any_public_page(site, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True)
    only_the_live_server(context)
    page = context.new_page()
    try:
        found = {name: blocking_violations(page, url) for name, url in site.items()}
    finally:
        context.close()
    found = {name: violations for name, violations in found.items() if violations}
    assert found == {}, "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)
