"""Fixtures of the real-Hexo tests in tests/hexo/ (Hexo 8 from tests/hexo/node_modules)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

HEXO_DIR = Path(__file__).resolve().parent
HEXO_MODULES = HEXO_DIR / "node_modules"
NODE_FOR_HEXO = (20, 19)  # hexo 8's package.json: "engines": {"node": ">=20.19.0"}


def hexo_missing() -> str | None:
    """Why real Hexo cannot run here, or None."""
    node = shutil.which("node")
    if node is None:
        return "Node.js not found: the Hexo conformance tests need node and npm (`make test-hexo` runs them)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    found = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    if found < NODE_FOR_HEXO:
        return f"Node.js {version} is too old for Hexo 8 (needs {'.'.join(map(str, NODE_FOR_HEXO))} or later)"
    if not (HEXO_MODULES / "hexo" / "package.json").is_file():
        return f"{HEXO_MODULES} missing: `make test-hexo` installs Hexo there (npm ci) and runs these tests"
    return None


@pytest.fixture(scope="session")
def node_for_hexo() -> str:
    """The `node` that runs tests/hexo/*.js; skips where Hexo cannot run, fails instead under `make test-hexo`."""
    reason = hexo_missing()
    if reason and os.environ.get("NEWSPORTAL_REQUIRE_HEXO"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    return shutil.which("node")
