"""Real Hexo 8 for the tests: whether it can run here, and bodies rendered with it.

Hexo 8.1.2, hexo-cli and hexo-renderer-marked are installed, locked, in
tests/hexo/node_modules by `make test-hexo` (`npm ci` in tests/hexo/), which
then runs the tests marked `hexo`. Without Node.js 20.19+ or those modules
they skip, saying which is missing — or fail, with NEWSPORTAL_REQUIRE_HEXO set
(`make test-hexo`, `.ci/run`), where a missing Hexo is an error.

Used by tests/hexo/ (the conformance suite), tests/importing/test_hexo_export_build.py,
test_tag_plugins.py and test_code_fences.py: the one place that decides.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories import PROJECT

HEXO_DIR = PROJECT / "tests" / "hexo"
HEXO_MODULES = HEXO_DIR / "node_modules"
NODE_FOR_HEXO = (20, 19)  # hexo 8's package.json: "engines": {"node": ">=20.19.0"}


@functools.cache
def hexo_missing() -> str | None:
    """Why real Hexo cannot run here, or None."""
    node = shutil.which("node")
    if node is None:
        return "Node.js not found: the Hexo tests need node and npm (`make test-hexo` runs them)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    found = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    if found < NODE_FOR_HEXO:
        return f"Node.js {version} is too old for Hexo 8 (needs {'.'.join(map(str, NODE_FOR_HEXO))} or later)"
    if not (HEXO_MODULES / "hexo" / "package.json").is_file() or not (HEXO_MODULES / ".bin" / "hexo").is_file():
        return f"{HEXO_MODULES} missing: `make test-hexo` installs Hexo there (npm ci) and runs these tests"
    return None


def require_hexo() -> str:
    """The `node` that runs Hexo; skips the test where Hexo cannot run, fails it under `make test-hexo`."""
    reason = hexo_missing()
    if reason and os.environ.get("NEWSPORTAL_REQUIRE_HEXO"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    return shutil.which("node")


def hexo_render(bodies: list[str], site: Path) -> list[str]:
    """`bodies` rendered by real Hexo 8's post renderer (tests/hexo/render_posts.js) in the site folder `site`.

    `site` is made a Hexo site if it is not one (a package.json naming
    hexo-renderer-marked, and tests/hexo/node_modules); a `scripts/` folder
    put there first brings the site's own tags.
    """
    node = require_hexo()
    site.mkdir(exist_ok=True)
    (site / "package.json").write_text(json.dumps(
        {"name": "probe", "version": "0.0.0", "private": True,
         "dependencies": {"hexo": "*", "hexo-renderer-marked": "*"}}))
    if not (site / "node_modules").exists():
        (site / "node_modules").symlink_to(HEXO_MODULES, target_is_directory=True)
    done = subprocess.run([node, str(HEXO_DIR / "render_posts.js"), str(site)], input=json.dumps(bodies),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
