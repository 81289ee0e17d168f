"""Import from the browser: the admin's upload page, through HTTP, and the import history it writes."""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from articles.models import Article, ImportedFile, ImportRun
from tests.factories import SEEDS, post, staff

pytestmark = pytest.mark.django_db

UPLOAD = "admin:articles_importrun_upload"


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are asserted in English here; the Chinese admin is checked by
    test_form_errors_are_in_the_editors_language."""
    settings.LANGUAGE_CODE = "en"

CHANGELIST = "admin:articles_importrun_changelist"


@pytest.fixture
def desk(desk, client) -> User:
    """The Editors' `desk` user of tests/conftest.py, logged in."""
    client.force_login(desk)
    return desk


def story(title: str, body: str = "<p>正文</p>") -> bytes:
    return post(title=f"'{title}'", body=body).encode()


BAD_YAML = b"---\ntitle: [unclosed\ndate: 2022-01-01\n---\nbody"


def upload_file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def make_zip(name: str, members: dict[str, bytes], *, symlinks: dict[str, str] | None = None,
             compression: int = zipfile.ZIP_DEFLATED) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
        for member, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(member)
            info.create_system = 3  # Unix, so the mode bits below are read
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


@pytest.fixture
def send(upload_and_import):
    """Upload through the admin: a queued upload is imported by the task worker, and its run's page returned."""
    return upload_and_import


def page_text(response) -> str:
    return response.content.decode()


# --- a good file, a bad file --------------------------------------------------


def test_editor_uploads_a_post_and_sees_it_in_the_import_history(client, desk, send):
    response = client.get(reverse(UPLOAD))
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page_text(response) and "csrfmiddlewaretoken" in page_text(response)

    response = send(client, upload_file("good.md", story("上传的文章")))
    assert response.posted.status_code == 303  # stored and queued; the task worker imported it
    assert response.status_code == 200
    article = Article.objects.get(title="上传的文章")
    assert article.source_path == "upload:good.md"
    assert ImportedFile.objects.get(article=article).path == "upload:good.md"

    run = ImportRun.objects.get()
    assert run.origin == ImportRun.Origin.UPLOAD and run.user == desk and run.system_user == ""
    assert run.sources == ["good.md"] and run.time_zone == "Asia/Shanghai"
    assert (run.created, run.updated, run.unchanged, run.failed) == (1, 0, 0, 0)
    assert run.status == ImportRun.Status.SUCCEEDED and run.finished_at >= run.started_at
    run_url = reverse("admin:articles_importrun_change", args=[run.pk])
    assert response.posted["Location"] == run_url
    assert "succeeded" in page_text(response) and "1 created" in page_text(response)

    listing = client.get(reverse(CHANGELIST))
    assert listing.status_code == 200
    assert "desk" in page_text(listing) and "good.md" in page_text(listing)
    assert reverse(UPLOAD) in page_text(listing)  # the upload button
    assert client.get(run_url).status_code == 200


def test_a_bad_file_is_reported_by_name_and_the_others_still_import(client, desk, send):
    response = send(client, upload_file("good.md", story("好文章")), upload_file("bad.md", BAD_YAML),
                    upload_file("empty.txt", b""))
    assert response.status_code == 200
    text = page_text(response)
    assert "upload:bad.md: front matter: invalid YAML" in text
    assert "upload:empty.txt" in text
    assert list(Article.objects.values_list("title", flat=True)) == ["好文章"]

    run = ImportRun.objects.get()
    assert (run.created, run.failed) == (1, 2) and run.status == ImportRun.Status.WITH_ERRORS
    assert [line.split(":", 2)[1] for line in run.errors] == ["bad.md", "empty.txt"]
    detail = page_text(client.get(reverse("admin:articles_importrun_change", args=[run.pk])))
    assert "upload:bad.md: front matter: invalid YAML" in detail and "upload:empty.txt" in detail


def test_a_post_with_an_impossible_date_fails_alone_among_hundreds(client, desk, send):
    """#14 item 2: PyYAML's timestamps raised a bare ValueError here: HTTP 500 and nothing imported."""
    members = {f"posts/{n:03}.md": story(f"第{n}篇") for n in range(300)}
    members["posts/150_bad.md"] = post(title="不存在的日子", date="2021-13-01").encode()
    response = send(client, make_zip("archive.zip", members))
    assert response.status_code == 200
    line = "upload:archive.zip/posts/150_bad.md: date &#x27;2021-13-01&#x27; is not a valid date: month must be in 1..12"
    assert line in page_text(response)
    assert Article.objects.count() == 300
    run = ImportRun.objects.get()
    assert (run.created, run.failed) == (300, 1) and run.status == ImportRun.Status.WITH_ERRORS
    assert run.errors == [line.replace("&#x27;", "'")]


def test_uploading_the_same_file_again_is_unchanged(client, desk, send):
    send(client, upload_file("same.md", story("同一篇")))
    response = send(client, upload_file("same.md", story("同一篇")))
    assert response.status_code == 200
    first, second = ImportRun.objects.order_by("started_at", "id")
    assert (first.created, first.unchanged) == (1, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    assert Article.objects.count() == 1


def test_the_seeds_upload_like_the_command_imports_them(client, desk, send):
    files = [upload_file(p.name, p.read_bytes()) for p in sorted(SEEDS.iterdir()) if p.suffix == ".txt"]
    send(client, *files)
    run = ImportRun.objects.get()
    assert (run.created, run.failed) == (2, 0)
    article = Article.objects.get(title__startswith="涨停有因")
    assert article.source_path == "upload:000_a0c2001c312cffc3.txt"
    assert [c.path for c in article.categories.all()] == ["金融", "金融/财联社", "金融/财联社/深度"]


def test_options_reach_the_importer(client, desk, send):
    naive = post(title="'北京时间'", date="2022-04-30 09:00:00").encode()
    send(client, upload_file("naive.md", naive), time_zone="UTC")
    run = ImportRun.objects.get()
    assert run.time_zone == "UTC" and run.overwrite_edited is False
    assert Article.objects.get().published_at.isoformat() == "2022-04-30T09:00:00+00:00"

    article = Article.objects.get()
    article.edited_locally = True
    article.save()
    changed = post(title="'北京时间'", date="2022-04-30 09:00:00", body="<p>新版</p>").encode()
    send(client, upload_file("naive.md", changed), time_zone="UTC")
    assert ImportRun.objects.latest().kept_local_edits == 1
    send(client, upload_file("naive.md", changed), time_zone="UTC", overwrite_edited="on")
    latest = ImportRun.objects.latest()
    assert latest.overwrite_edited and latest.updated == 1
    assert Article.objects.get().body == "<p>新版</p>"


# --- archives -------------------------------------------------------------------


def test_a_zip_with_folders_a_bad_post_and_junk(client, desk, send):
    archive = make_zip("posts.zip", {
        "2022/04/a.md": story("甲"),
        "2022/05/deep/b.markdown": story("乙"),
        "c.txt": story("丙"),
        "2022/bad.md": BAD_YAML,
        "images/logo.png": b"\x89PNG",
        "__MACOSX/2022/._a.md": b"resource fork",
        ".hidden/d.md": story("藏"),
        "2022/.DS_Store": b"junk",
    })
    response = send(client, archive)
    assert response.status_code == 200
    text = page_text(response)
    assert "upload:posts.zip/2022/bad.md: front matter: invalid YAML" in text
    assert "posts.zip/images/logo.png" in text  # listed as ignored
    assert set(Article.objects.values_list("title", flat=True)) == {"甲", "乙", "丙"}
    assert Article.objects.get(title="乙").source_path == "upload:posts.zip/2022/05/deep/b.markdown"
    run = ImportRun.objects.get()
    assert run.sources == ["posts.zip"] and (run.created, run.failed) == (3, 1)

    send(client, make_zip("posts.zip", {"2022/04/a.md": story("甲"), "c.txt": story("丙")}))
    again = ImportRun.objects.latest()
    assert (again.created, again.unchanged) == (0, 2)


def test_zip_and_plain_files_together(client, desk, send):
    send(client, make_zip("one.zip", {"x.md": story("一")}), upload_file("two.md", story("二")))
    run = ImportRun.objects.get()
    assert run.sources == ["one.zip", "two.md"] and run.created == 2


def test_chinese_member_names_from_a_windows_zip_are_decoded(client, desk, send):
    archive = make_zip("win.zip", {"abcd.md": story("编码")})
    # Chinese Windows writes names in GBK without the UTF-8 flag; same length as the placeholder.
    data = archive.read().replace(b"abcd.md", "新闻.md".encode("gbk"))
    send(client, upload_file("win.zip", data))
    assert Article.objects.get().source_path == "upload:win.zip/新闻.md"


@pytest.mark.parametrize("member, problem", [
    ("../../etc/evil.md", "path traversal"),
    ("ok/../../evil.md", "path traversal"),
    ("/etc/evil.md", "absolute path"),
    ("C:\\Windows\\evil.md", "absolute path"),
])
def test_zip_with_unsafe_names_is_refused_whole(client, desk, member, problem, send):
    response = send(client, make_zip("evil.zip", {"fine.md": story("好"), member: story("坏")}))
    assert response.status_code == 200
    text = page_text(response)
    assert "evil.zip" in text and problem in text and "errorlist" in text
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_zip_with_a_symlink_is_refused(client, desk, send):
    response = send(client, make_zip("links.zip", {"fine.md": story("好")}, symlinks={"passwd.md": "/etc/passwd"}))
    text = page_text(response)
    assert "links.zip" in text and "symbolic link" in text
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_zip_with_too_many_entries_is_refused(client, desk, settings, send):
    settings.NEWSPORTAL_UPLOAD_MAX_ENTRIES = 3
    response = send(client, make_zip("many.zip", {f"{i}.md": story(f"第{i}篇") for i in range(4)}))
    text = page_text(response)
    assert "many.zip: 4 entries, over the limit of 3" in text
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_oversize_member_fails_alone(client, desk, settings, send):
    settings.NEWSPORTAL_IMPORT_MAX_BYTES = 2000
    big = story("太长", body="<p>" + "字" * 2000 + "</p>")
    response = send(client, make_zip("mixed.zip", {"big.md": big, "small.md": story("短")}))
    text = page_text(response)
    assert "upload:mixed.zip/big.md: file is" in text and "over the 2,000-byte limit" in text
    assert list(Article.objects.values_list("title", flat=True)) == ["短"]
    run = ImportRun.objects.get()
    assert (run.created, run.failed) == (1, 1)


def test_zip_bomb_is_refused_before_unpacking(client, desk, settings, send):
    settings.NEWSPORTAL_UPLOAD_MAX_UNPACKED_BYTES = 100_000
    # Highly compressible: a few kilobytes on the wire, 150 kB unpacked.
    padding = "<p>" + "0" * 50_000 + "</p>"
    archive = make_zip("bomb.zip", {f"{i}.md": story(f"炸{i}", body=padding) for i in range(3)})
    assert archive.size < 5_000
    response = send(client, archive)
    assert "bomb.zip: its posts would unpack to" in page_text(response)
    assert "NEWSPORTAL_UPLOAD_MAX_UNPACKED_BYTES" in page_text(response)
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_damaged_member_fails_alone(client, desk, send):
    archive = make_zip("damaged.zip", {"ok.md": story("完好"), "broken.md": story("损坏")},
                       compression=zipfile.ZIP_STORED)
    data = archive.read().replace("损坏".encode(), "破损".encode(), 1)  # the CRC no longer matches
    response = send(client, upload_file("damaged.zip", data))
    assert "upload:damaged.zip/broken.md: cannot unpack from the archive" in page_text(response)
    assert list(Article.objects.values_list("title", flat=True)) == ["完好"]


@pytest.mark.parametrize("name, content, message", [
    ("corrupt.zip", b"PK\x03\x04 this is not really a zip", "corrupt.zip: not a readable .zip archive"),
    ("report.pdf", b"%PDF-1.4", "report.pdf: not a .md, .markdown, .txt or .zip file"),
    ("empty.zip", None, "empty.zip: contains no .md, .markdown or .txt files"),
])
def test_wrong_or_corrupt_files_get_a_form_error_naming_them(client, desk, name, content, message, send):
    file = make_zip(name, {"readme.html": b"<p>hi</p>"}) if content is None else upload_file(name, content)
    response = send(client, upload_file("good.md", story("不导入")), file)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_form_errors_are_in_the_editors_language(client, desk, settings, send):
    settings.LANGUAGE_CODE = "zh-hans"
    response = send(client, upload_file("report.pdf", b"%PDF-1.4"))
    assert "report.pdf：不是 .md、.markdown、.txt 或 .zip 文件" in page_text(response)
    traversal = make_zip("evil.zip", {"../escape.md": story("越界")})
    assert "路径穿越" in page_text(send(client, traversal))


def test_no_file_chosen_is_a_form_error(client, desk):
    response = client.post(reverse(UPLOAD), {"time_zone": "Asia/Shanghai"})
    assert response.status_code == 200 and "errorlist" in page_text(response)
    assert not ImportRun.objects.exists()


# --- request limits and CSRF ------------------------------------------------------


def test_an_upload_over_the_size_limit_is_refused_unread(client, desk, settings, send):
    settings.LANGUAGE_CODE = "zh-hans"
    settings.NEWSPORTAL_UPLOAD_MAX_BYTES = 1_000
    response = send(client, upload_file("big.md", story("大", body="<p>" + "字" * 1000 + "</p>")))
    assert response.status_code == 413
    assert "NEWSPORTAL_UPLOAD_MAX_BYTES" in page_text(response)
    assert "超过上限 1,000 字节" in page_text(response)  # in the editor's language, like every admin message
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_too_many_files_at_once_is_a_clear_error(client, desk, settings, send):
    settings.LANGUAGE_CODE = "zh-hans"
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    response = send(client, *(upload_file(f"{i}.md", story(f"篇{i}")) for i in range(3)))
    assert response.status_code == 400
    assert "一次最多上传 2 个文件" in page_text(response) and ".zip" in page_text(response)
    assert not Article.objects.exists()


def test_upload_needs_the_csrf_token(send):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff("desk", "Editors"))
    response = send(csrf_client, upload_file("good.md", story("跨站")))
    assert response.status_code == 403
    assert not Article.objects.exists() and not ImportRun.objects.exists()


# --- who may -------------------------------------------------------------------------


def test_authors_get_403_for_uploads_and_the_import_history(client, send):
    client.force_login(staff("writer", "Authors"))
    assert client.get(reverse(UPLOAD)).status_code == 403
    assert send(client, upload_file("good.md", story("作者上传"))).status_code == 403
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_the_public_is_sent_to_the_login_page(client, send):
    for url in (reverse(UPLOAD), reverse(CHANGELIST)):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    response = send(client, upload_file("good.md", story("匿名")))
    assert response.status_code == 302 and not Article.objects.exists()


def test_import_history_is_read_only_and_only_superusers_delete(client, desk, admin_user, send):
    send(client, upload_file("good.md", story("历史")))
    run = ImportRun.objects.get()
    change_url = reverse("admin:articles_importrun_change", args=[run.pk])
    delete_url = reverse("admin:articles_importrun_delete", args=[run.pk])
    assert client.get(reverse("admin:articles_importrun_add")).status_code == 403
    assert client.post(change_url, {"created": 99}).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    run.refresh_from_db()
    assert run.created == 1

    client.force_login(admin_user)
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not ImportRun.objects.exists()


def test_import_history_filters(client, desk, run_import, send):
    run_import(SEEDS)
    send(client, upload_file("good.md", story("筛选")))
    upload_only = page_text(client.get(reverse(CHANGELIST), {"origin__exact": "upload"}))
    assert "good.md" in upload_only and str(SEEDS) not in upload_only
    command_only = page_text(client.get(reverse(CHANGELIST), {"origin__exact": "command"}))
    assert str(SEEDS) in command_only and "good.md" not in command_only


def test_nothing_is_left_in_the_temporary_directory(client, desk, tmp_path, monkeypatch, send):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    send(client, make_zip("posts.zip", {"a/b.md": story("临时"), "bad.md": BAD_YAML}))
    assert Article.objects.get().title == "临时"
    assert list(tmp_path.iterdir()) == []


def test_only_editors_hold_the_import_permissions():
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    authors = set(Group.objects.get(name="Authors").permissions.values_list("codename", flat=True))
    assert {"view_importrun", "upload_importrun"} <= editors
    assert not {"view_importrun", "upload_importrun", "add_importrun", "change_importrun"} & authors
    assert not {"add_importrun", "change_importrun", "delete_importrun"} & editors
