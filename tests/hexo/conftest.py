"""Fixtures of the real-Hexo tests in tests/hexo/ (Hexo 8 from tests/hexo/node_modules)."""

from __future__ import annotations

import pytest

from tests.hexo_support import require_hexo


@pytest.fixture(scope="session")
def node_for_hexo() -> str:
    """The `node` that runs tests/hexo/*.js; skips where Hexo cannot run, fails instead under `make test-hexo`."""
    return require_hexo()
