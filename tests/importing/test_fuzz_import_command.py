"""Property-based tests of the import_articles command as an operator runs it.

tests/importing/test_parse.py fuzzes the parser alone with random bytes and YAML
fragments. Here whole directories of generated files go through the command
(call_command): arbitrary bytes, structurally valid YAML and JSON front matter
whose fields hold any value of any type, deep nesting and huge values. Whatever
the files hold, the command ends normally (exit 0 or 1, never a traceback),
every file is counted once, and each failed file gets exactly one error line
that names it.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Article

pytestmark = pytest.mark.django_db

SUMMARY = re.compile(r"created (\d+), updated (\d+), unchanged (\d+), failed (\d+)")
KEYS = ["title", "date", "categories", "category", "tags", "tag", "author", "headimg", "thumbnail", "comments",
        "published", "permalink", "id", "link", "source_url", "extra", "<script>", "", "日期"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.sampled_from(["2022-04-30 09:33:09", "Sat, 30 Apr 2022 01:33:09 GMT", "Invalid Date",
                                           "2022-02-30", "0000-00-00", "9999-12-31T23:59:59+14:00", "金融",
                                           "javascript:alert(1)", "https://img.cls.cn/x.jpg", "<script>x</script>"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=5)),
                      max_leaves=25)
front_matters = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
# A text post never holds a NUL byte (such a file is refused as binary, tested above).
bodies = st.one_of(st.text(st.characters(blacklist_characters="\x00"), max_size=200),
                   st.just("<p>正文</p><script>alert(1)</script>"))


def yaml_post(front: dict, body: str) -> bytes:
    return ("---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body).encode("utf-8", "surrogatepass")


def json_post(front: dict, body: str) -> bytes:
    return (";;;\n" + json.dumps(front, ensure_ascii=False) + "\n;;;\n" + body).encode("utf-8", "surrogatepass")


def nested(depth: int, kind: str) -> bytes:
    value = {"list": "[" * depth + "]" * depth, "map": "{a: " * depth + "1" + "}" * depth,
             "json": "[" * depth + "]" * depth}[kind]
    if kind == "json":
        return f';;;\n{{"title": "x", "date": "2022-01-01", "x": {value}}}\n;;;\nbody'.encode()
    return f"---\ntitle: x\ndate: 2022-01-01\nx: {value}\n---\nbody".encode()


def huge(size: int, field: str) -> bytes:
    return f"---\ntitle: x\ndate: 2022-01-01\n{field}: '{'长' * size}'\n---\nbody".encode()


files = st.one_of(
    st.binary(max_size=400),
    st.builds(yaml_post, front_matters, bodies),
    st.builds(json_post, front_matters, bodies),
    st.builds(nested, st.sampled_from([30, 500, 5_000, 50_000]), st.sampled_from(["list", "map", "json"])),
    st.builds(huge, st.sampled_from([101, 501, 70_000]), st.sampled_from(["title", "author", "tags", "extra"])),
)


def check_run(result, paths: list[Path]) -> None:
    """Exit 0/3 (some files failed), every file counted once, one error line per failed file naming it."""
    assert result.exit_code in (0, 3), result.stderr
    assert "Traceback" not in result.stderr
    counts = [int(n) for n in SUMMARY.search(result.stdout).groups()]
    assert sum(counts) == len(paths), (counts, result.stdout)
    failed = counts[3]
    assert len(result.error_lines) == failed, result.error_lines
    assert (result.exit_code == 3) == (failed > 0)
    named = [next((p for p in paths if line.startswith(str(p) + ":")), None) for line in result.error_lines]
    assert None not in named, result.error_lines
    assert len(set(named)) == len(named), "a file reported twice"


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(files, min_size=1, max_size=6))
def test_any_files_give_a_clean_run_and_one_line_per_bad_file(run_import, contents):
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, content in enumerate(contents):
            path = Path(folder) / f"f{index}.md"
            path.write_bytes(content)
            paths.append(path)
        result = run_import(folder)
    check_run(result, paths)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front_matters, bodies)
def test_a_well_formed_post_with_any_extra_fields_imports(run_import, front, body):
    front = {**front, "title": "模糊测试", "date": "2022-04-30 09:33:09"}
    for key in ("categories", "category", "tags", "tag", "author", "headimg", "thumbnail", "comments",
                "published", "permalink", "id", "link", "source_url"):
        front.pop(key, None)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "post.md"
        path.write_bytes(yaml_post(front, body))
        result = run_import(path)
    check_run(result, [path])
    assert result.exit_code == 0, result.stderr  # unknown fields are kept, never fatal
    assert Article.objects.filter(title="模糊测试").exists()


def test_hostile_files_through_the_worker_process(run_import, tmp_path):
    contents = [b"\x00\x01", nested(50_000, "list"), nested(5_000, "json"), huge(70_000, "title"),
                b"---\ntitle: !!python/object/apply:os.system ['echo x']\ndate: 2022-01-01\n---\nbody",
                "---\ntitle: 好\ndate: 2022-01-01\n---\n<p>正文</p>".encode()]
    paths = []
    for index, content in enumerate(contents):
        paths.append(tmp_path / f"w{index}.md")
        paths[-1].write_bytes(content)
    result = run_import("--workers", "1", tmp_path)
    check_run(result, paths)
    assert "failed 5" in result.stdout and Article.objects.filter(title="好").exists()
