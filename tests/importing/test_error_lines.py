"""Import error lines: English on the command line and in the stored run, the reader's language when shown."""

from __future__ import annotations

import ast
import html
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, OperationalError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

import importing
from articles.models import ImportRun
from importing import database_errors
from importing.database_errors import explain, one_line
from importing.error_lines import (
    FIELD_PROBLEMS, FILE_PROBLEMS, REASON_BEGINNINGS, REASON_PHRASES, RUN_FAILURES, SYNTAX_ERROR, SYNTAX_PHRASES,
    translated_line, translated_reason,
)
from importing.load import ArticleLoader
from tests.factories import staff

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


# --- every message the importer can store, translated when shown ------------------------------------------

def _chinese_problem(shown: str) -> str:
    """What a translated line says after its file's name ("<file>：<problem>")."""
    assert "：" in shown, shown
    return shown.split("：", 1)[1]


@pytest.mark.parametrize("template", SYNTAX_PHRASES + REASON_PHRASES + REASON_BEGINNINGS + RUN_FAILURES + (SYNTAX_ERROR,))
def test_each_known_wording_of_another_library_has_its_chinese(template):
    with translation.override("zh-hans"):
        assert CJK.search(gettext(template)), template


# Where the importer words a stored line, and how the line reads around the worded message:
# (module, the callable, the argument holding the message, how a line is made of it).
_SITES = {
    "ImportFileError": (1, lambda call, msg: f"p.md: {_const(call, 2, 'front matter')}: {msg}"
                        if len(call.args) > 2 else f"p.md: {msg}"),
    "_FieldError": (1, lambda call, msg: f"p.md: {_const(call, 0, 'date')} {msg}"),
    "SiteConfigError": (1, lambda call, msg: f"/s/_config.yml: {_const(call, 2, 'marked')} {msg}"
                        if len(call.args) > 2 else f"/s/_config.yml: {msg}"),
    "UnknownPermalink": (0, lambda call, msg: f"p.md: permalink: the old address is not known ({msg}): "
                         "no redirect from it"),
    "warn": (0, lambda call, msg: f"p.md: {msg}"),
    "append": (0, lambda call, msg: msg),
}
_MODULES = ("parse", "hexo_site", "upload", "pipeline", "assets", "asset_store", "tag_plugins", "load", "service")


def _const(call: ast.Call, index: int, instead: str) -> str:
    node = call.args[index] if len(call.args) > index else None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else instead


def _sample(node: ast.AST) -> str | None:
    """An f-string's text with each {value} a sample word; None for a message not written out here."""
    if isinstance(node, ast.Subscript):  # f"…"[:120]
        return _sample(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_sample_value(part, n) for n, part in enumerate(node.values))
    return None


def _sample_value(part: ast.AST, n: int) -> str:
    if isinstance(part, ast.Constant):
        return part.value
    if isinstance(part, ast.FormattedValue) and ast.unparse(part.value) in ("line", "where"):
        return ""  # where in the file, made just above (" at line 3, column 8") or nothing: the shortest
    return f"v{n}"


def _worded_lines() -> list[tuple[str, str]]:
    """(where, a line as stored) for each message the importer writes out in its own words."""
    found = []
    for module in _MODULES:
        path = Path(importing.__file__).parent / f"{module}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in _SITES or len(node.args) <= _SITES[name][0]:
                continue
            if name == "append" and not re.search(r"(errors|warnings|problems|missing)$", ast.unparse(node.func.value)):
                continue
            message = _sample(node.args[_SITES[name][0]])
            if message is None or (name == "append" and ": " not in message):
                continue  # a variable's value: worded elsewhere (and found there)
            found.append((f"{module}.py:{node.lineno}", _SITES[name][1](node, message)))
        # An asset refused (importing.assets._check, image_format_of): a reason returned, not raised.
        if module == "assets":
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
                    for element in node.value.elts:
                        reason = _sample(element)
                        if reason:
                            found.append((f"{module}.py:{node.lineno}", f"p.md: asset a.png: {reason}; not imported"))
    return found


WORDED = _worded_lines()


def test_the_scan_finds_the_importers_messages():
    # Guards the scan itself: if it found nothing, the test below could not fail.
    assert len(WORDED) > 60
    where = {place.split(":")[0] for place, _line in WORDED}
    assert {"parse.py", "hexo_site.py", "upload.py", "tag_plugins.py", "assets.py", "pipeline.py"} <= where


@pytest.mark.parametrize(("where", "line"), WORDED, ids=[where for where, _line in WORDED])
def test_every_message_the_importer_words_is_translated(where, line):
    """A new message in the importer (an f-string it raises or appends) fails here until it has its
    template in importing.error_lines and its Chinese in the catalogue."""
    with translation.override("zh-hans"):
        shown = translated_line(line)
    assert shown != line, f"{where}: no Chinese for {line!r}"
    assert CJK.search(_chinese_problem(shown)), (where, shown)


@pytest.mark.parametrize(("error", "said"), [
    (OperationalError("database is locked"), "数据库被另一个进程锁住（database is locked）"),
    (IntegrityError("UNIQUE constraint failed: articles_article.slug"), "与已有的记录重复"),
    (OperationalError("attempt to write a readonly database"), "数据库只读（attempt to write a readonly database）"),
    (OperationalError("database or disk is full"), "数据库或其所在磁盘已满"),
    (OperationalError("disk I/O error"), "数据库文件无法读写"),
    (OperationalError("unable to open database file"), "无法打开数据库"),
    (OperationalError("deadlock detected DETAIL: Process 1 waits for ShareLock"), "发生死锁"),
    (OperationalError("something no one has seen"), "数据库出错：something no one has seen"),
])
def test_a_database_error_line_is_chinese_and_keeps_the_databases_words(error, said):
    line = f"/srv/posts/a.md: {explain(error)}"
    with translation.override("zh-hans"):
        shown = translated_line(line)
    assert shown.startswith("/srv/posts/a.md：") and said in shown, shown
    assert one_line(error) in shown  # the database's own words, for whoever looks into it


@pytest.mark.parametrize(("problem", "said"), [
    ("expected <block end>, but found '<scalar>'", "缩进不齐"),
    ("did not find expected key", "缺少应有的键"),
    ("mapping values are not allowed in this context", "值里的冒号请加引号"),
    ("a wording of a PyYAML to come", "语法错误"),
])
def test_pyyamls_wording_is_explained_in_chinese_with_the_original_kept(problem, said):
    line = f"/srv/posts/a.md: front matter: invalid YAML at line 3, column 8: {problem}"
    with translation.override("zh-hans"):
        shown = translated_line(line)
    assert shown.startswith("/srv/posts/a.md：文章头信息：第 3 行 YAML 无效（第 8 列）："), shown
    assert said in shown and f"（{problem}）" in shown


def _site(root: Path, config: str) -> Path:
    (root / "source" / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(config, encoding="utf-8")
    (root / "source" / "_posts" / "a.md").write_text("---\ntitle: 甲\ndate: 2024-01-02\n---\n正文", encoding="utf-8")
    return root


BAD_SITES = {
    "yaml": ("title: 站点\npermalink: :year/:title/\n  timezone: Asia/Shanghai\n", "第 3 行 YAML 无效（第 11 列）"),
    "zone": ("timezone: Mars/Olympus\n", "不是已知的时区"),
    "case": ("filename_case: 5\n", "之一，而不是 5"),
    "flag": ("post_asset_folder: maybe\n", "应为 true 或 false"),
    "list": ("- a\n- b\n", "映射"),
}
BAD_FILES = {
    "broken.md": "---\ntitle: 甲\n  date: 2024-01-02\nfoo\n---\n正文",  # libyaml's words
    # over C_LOADER_MAX_BYTES: PyYAML's pure-Python parser's words ("expected <block end>, but found …")
    "long.md": "---\n" + "".join(f"k{n}: {'v' * 40}\n" for n in range(120)) + "title: a\nauthor:\n  name: b\n c: d\n---\n正文",
    "json.md": ';;;\n"title": "甲",,\n;;;\n正文',
    "dates.md": "---\ntitle: 乙\ndate: 2024-02-30 10:00\nupdated: 2024-13-01\n---\n正文",
    "words.md": "---\ntitle: 丙\ndate: yesterday\n---\n正文",
    "gbk.md": "---\ntitle: 标题\n---\n".encode("gbk"),
}


@pytest.fixture
def bad_command_run(run_import, write_post, tmp_path) -> tuple[ImportRun, str]:
    posts = tmp_path / "posts"
    for name, content in BAD_FILES.items():
        write_post(f"posts/{name}", content)
    sites = [_site(tmp_path / name, config) for name, (config, _said) in BAD_SITES.items()]
    result = run_import(posts, *sites, tmp_path / "gone.md")
    return ImportRun.objects.latest(), result.stderr


def test_a_bad_import_from_the_command_line_reads_chinese_on_the_run_page(bad_command_run, client):
    run, stderr = bad_command_run
    assert len(run.errors) == len(BAD_FILES) + len(BAD_SITES) + 1
    for line in run.errors:  # the command line and the stored run keep their English
        assert line in stderr and not CJK.search(line.split(": ", 1)[1]), line
    client.force_login(staff("desk", "Editors"))
    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk]))
    assert page.status_code == 200
    shown = _listed(page.content.decode(), "import-errors")
    assert len(shown) == len(run.errors)
    for line in shown:
        assert CJK.search(_chinese_problem(line)), line
    text = "\n".join(shown)
    for _config, said in BAD_SITES.values():
        assert said in text, said
    assert "gone.md：没有这个文件或文件夹" in text
    assert "月份应在 1 到 12 之间（month must be in 1..12）" in text
    assert "（expected &lt;block end&gt;, but found" in text  # PyYAML's words, kept beside the Chinese
    # The run's JSON, which the page's script shows, says the same.
    state = client.get(reverse("admin:articles_importrun_progress", args=[run.pk])).json()
    assert [html.escape(line) for line in state["errors"]] == shown


def test_a_lost_database_race_reads_chinese_on_the_run_page(run_import, write_post, tmp_path, client, monkeypatch):
    """A write that still finds the database locked after its retries fails its file with one line."""
    write_post("a.md", "---\ntitle: 甲\ndate: 2024-01-02\n---\n正文")
    monkeypatch.setattr(database_errors.time, "sleep", lambda seconds: None)  # the retries' pauses

    def locked(self, batch):
        raise OperationalError("database is locked")

    monkeypatch.setattr(ArticleLoader, "_write_batch", locked)
    result = run_import(tmp_path)
    run = ImportRun.objects.latest()
    assert run.errors == [f"{tmp_path / 'a.md'}: database error: database is locked"]
    assert run.errors[0] in result.stderr
    client.force_login(staff("desk", "Editors"))
    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert "a.md：数据库出错：数据库被另一个进程锁住（database is locked）" in page


def test_a_bad_upload_reads_chinese_on_the_run_page(client, upload_and_import):
    client.force_login(staff("desk", "Editors"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, content in BAD_FILES.items():
            zipped.writestr(f"稿件/{name}", content)
        zipped.writestr("x" * 950 + ".md", "---\ntitle: a\n---\n")  # a name over the limit
    page = upload_and_import(client, SimpleUploadedFile("稿件.zip", archive.getvalue()))
    run = ImportRun.objects.latest()
    assert page.status_code == 200 and run.origin == ImportRun.Origin.UPLOAD
    assert len(run.errors) == len(BAD_FILES) + 1
    shown = _listed(page.content.decode(), "import-errors")
    assert len(shown) == len(run.errors)
    for line in shown:
        assert line.startswith("upload:") and CJK.search(_chinese_problem(line)), line
    text = "\n".join(shown)
    assert "文件名超过 900 个字符" in text and "不是 UTF-8" in text and "JSON 无效" in text


def test_the_upload_pages_own_refusals_are_chinese(client, upload_and_import):
    client.force_login(staff("desk", "Editors"))
    page = upload_and_import(client, SimpleUploadedFile("稿件.exe", b"MZ"))
    text = page.content.decode()
    assert page.status_code == 200 and "errorlist" in text
    assert "稿件.exe：" in text or "稿件.exe:" in text
    assert "not a .md" not in text and "不是" in text


def _listed(page: str, css_class: str) -> list[str]:
    """The items of the page's <ol class="css_class"> (HTML-escaped as shown)."""
    match = re.search(rf'<ol class="{css_class}">(.*?)</ol>', page, re.DOTALL)
    assert match, f"no {css_class} list"
    return re.findall(r"<li>(.*?)</li>", match.group(1), re.DOTALL)


# --- why a whole run failed, shown beside its status -----------------------------------------------------

def _worded_reasons() -> list[tuple[str, str]]:
    """(where, a reason as stored) for each failure reason importing.runs and importing.tasks write out."""
    found = []
    for module in ("runs", "tasks", "pipeline"):
        path = Path(importing.__file__).parent / f"{module}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            messages = [k.value for k in node.keywords if k.arg == "failure_reason"]
            if name == "_fail" and len(node.args) > 1:
                messages.append(node.args[1])
            if name == "WorkerLost" and node.args:
                messages.append(node.args[0])
            for message in messages:
                sample = _sample(message)
                if sample:
                    found.append((f"{module}.py:{node.lineno}", f"WorkerLost: {sample}" if name == "WorkerLost"
                                  else sample))
    from importing.runs import INTERRUPTED_BY_OPERATOR, interrupted_reason

    found.append(("runs.INTERRUPTED_BY_OPERATOR", INTERRUPTED_BY_OPERATOR))
    found.append(("runs.interrupted_reason", interrupted_reason(ImportRun(pid=4242, host="web-1"))))
    return found


WORDED_REASONS = _worded_reasons()


@pytest.mark.parametrize(("where", "reason"), WORDED_REASONS, ids=[where for where, _reason in WORDED_REASONS])
def test_every_failure_reason_the_importer_words_is_translated(where, reason):
    assert len(WORDED_REASONS) >= 7  # the scan found the runs' and the tasks' reasons
    with translation.override("zh-hans"):
        shown = translated_reason(reason)
    assert shown != reason and CJK.search(shown), (where, shown)
    with translation.override("en"):
        assert translated_reason(reason) == reason


@pytest.mark.parametrize(("reason", "said"), [
    ("DatabaseError: server closed the connection unexpectedly", "数据库服务器意外断开了连接"),
    ("OSError: [Errno 28] No space left on device", "磁盘已满（[Errno 28] No space left on device）"),
    ("attempt 1 of 2 failed (ConnectionError: database went away); it will be tried again",
     "第 1 次尝试失败（共 2 次）：因错误中止（ConnectionError）：database went away；将再试一次"),
    ("the import task failed for good: WorkerLost: worker w-1 stopped while running this task (attempt 2 of 2)",
     "导入任务最终失败：因错误中止（WorkerLost）：工作进程 w-1 在运行此任务时停止"),
])
def test_a_failure_reason_nests_its_parts_translated(reason, said):
    with translation.override("zh-hans"):
        assert said in translated_reason(reason)


def test_a_run_stopped_by_a_full_database_says_so_in_chinese(run_import, write_post, tmp_path, client, monkeypatch):
    write_post("a.md", "---\ntitle: 甲\ndate: 2024-01-02\n---\n正文")

    def full(self, batch):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(ArticleLoader, "_write_batch", full)
    result = run_import(tmp_path)
    run = ImportRun.objects.latest()
    assert result.exit_code != 0 and run.status == ImportRun.Status.FAILED
    assert run.failure_reason == "OperationalError: database or disk is full"  # stored in English
    client.force_login(staff("desk", "Editors"))
    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert "失败原因" in page and "因错误中止（OperationalError）：数据库或磁盘已满（database or disk is full）" in page
    state = client.get(reverse("admin:articles_importrun_progress", args=[run.pk])).json()
    assert state["failure_reason"] == "因错误中止（OperationalError）：数据库或磁盘已满（database or disk is full）"
