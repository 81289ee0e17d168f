"""The site keeps serving while an import writes (#6), at CI size.

bench/bench_load.py at full size is 64 connections for 60 s (figures in
docs/BENCHMARKS.md); here gunicorn (2 workers) gets 8 keep-alive connections
for a few seconds over home, category, article and search pages while
`import_articles` writes a few hundred generated posts to the same database.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.factories import PROJECT

pytestmark = pytest.mark.slow  # gunicorn under load while an import process writes

_spec = importlib.util.spec_from_file_location("bench_load", PROJECT / "bench" / "bench_load.py")
bench_load = importlib.util.module_from_spec(_spec)
sys.modules["bench_load"] = bench_load  # dataclasses look their module up
_spec.loader.exec_module(bench_load)


def test_no_5xx_and_no_connection_error_while_an_import_runs(scratch_db, tmp_path):
    load, imported = bench_load.run_under_import(
        scratch_db, tmp_path, connections=8, duration=5, articles=200, import_files=400, tool="python",
        settings="tests.settings", migrate=False)

    assert imported.returncode == 0, imported.stderr
    assert "failed 0" in imported.stdout
    assert load.requests > 0
    assert load.server_errors == 0, load.summary()
    assert load.connection_errors == 0, load.summary()
    assert load.other_statuses == {}, load.summary()
