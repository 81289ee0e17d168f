"""Import error lines: English on the command line and in the stored run, the reader's language when shown."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from articles.models import ImportRun
from importing.error_lines import FIELD_PROBLEMS, FILE_PROBLEMS, translated_line

pytestmark = pytest.mark.django_db

BAD_POSTS = {
    "yaml.md": "---\ntitle: [broken\n---\n正文",
    "binary.md": b"\xff\xfe\x00\x01garbage",
    "empty.md": "   \n",
    "no-front-matter.md": "只有正文，没有文章头信息",
    "fields.md": "---\ntitle: ''\ndate: 2024-13-45\ncomments: maybe\nslug: 'a b'\n---\n正文",
    "not-utf8.md": "---\ntitle: 标题\n---\n".encode("gbk"),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def failed_run(run_import, write_post, tmp_path) -> tuple[ImportRun, str]:
    for name, content in BAD_POSTS.items():
        write_post(name, content)
    result = run_import(tmp_path)
    assert result.exit_code != 0
    return ImportRun.objects.latest(), result.stderr


def test_the_command_line_and_the_stored_run_keep_english(failed_run):
    run, stderr = failed_run
    assert len(run.errors) == len(BAD_POSTS)
    for line in run.errors:
        assert line in stderr  # the command printed exactly what the run stores
        assert not CJK.search(line.split(": ", 1)[1]), line


def test_every_line_of_a_failed_import_is_chinese_when_shown_in_chinese(failed_run):
    run, _stderr = failed_run
    with translation.override("zh-hans"):
        shown = [translated_line(line) for line in run.errors]
    for original, line in zip(run.errors, shown):
        path, _sep, problem = line.partition("：")
        assert original.startswith(path) and CJK.search(problem), (original, line)
    joined = "\n".join(shown)
    assert "不是文本文章" in joined and "YAML 无效" in joined and "没有文章头信息" in joined
    # A file's several bad fields stay one line, each field translated.
    fields_line = next(line for line in shown if "fields.md" in line)
    assert "title 为空" in fields_line and "comments 应为 true 或 false" in fields_line


def test_english_readers_see_the_lines_as_written(failed_run):
    run, _stderr = failed_run
    with translation.override("en"):
        assert [translated_line(line) for line in run.errors] == run.errors


def test_a_line_of_unknown_wording_is_shown_as_it_is():
    line = "/srv/posts/a.md: database is locked"
    with translation.override("zh-hans"):
        assert translated_line(line) == line


@pytest.mark.parametrize("template", FILE_PROBLEMS + FIELD_PROBLEMS)
def test_each_known_problem_has_its_chinese(template):
    values = {name: f"V{n}" for n, name in enumerate(re.findall(r"%\((\w+)\)s", template))}
    if "field" in values:
        values["field"] = "date"  # a front-matter key: a word
    line = "upload:稿件.md: " + template % values
    with translation.override("zh-hans"):
        shown = translated_line(line)
    assert shown != line and shown.startswith("upload:稿件.md：") and CJK.search(shown.split("：", 1)[1])
    for value in values.values():  # the parameters survive the translation
        assert value in shown
