"""Hexo post asset folders: which files are taken (importing.assets), how the body points at them,
and how the import stores them (importing.asset_store) and the app serves them in development."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from articles.models import Article
from articles.sanitize import sanitize_body
from importing.assets import post_assets, resolve_asset_links, storage_name
from importing.parse import get_timezone
from importing.pipeline import import_files
from tests.factories import HEXO_SITE, image_bytes, write_file

TZ = get_timezone("Asia/Shanghai")
MB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_url(data: bytes, extension: str) -> str:
    return "/media/" + storage_name(sha(data), extension)


def markdown_post(folder: Path, stem: str, body: str, title: str | None = None) -> Path:
    title = title or stem
    return write_file(folder / f"{stem}.md", f"---\ntitle: {title}\ndate: 2024-05-01 10:00:00\n---\n\n{body}\n")


def stored_files(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


# --- the folder: what is taken ----------------------------------------------------------


def test_real_images_are_taken_by_content_and_named_by_their_hash(tmp_path):
    post = markdown_post(tmp_path, "post", "x")
    png, jpeg, gif, webp = (image_bytes(f) for f in ("PNG", "JPEG", "GIF", "WEBP"))
    write_file(tmp_path / "post" / "chart.png", png)
    write_file(tmp_path / "post" / "photo.jpeg", jpeg)
    write_file(tmp_path / "post" / "img" / "anim.gif", gif)
    write_file(tmp_path / "post" / "img" / "pic.webp", webp)
    write_file(tmp_path / "post" / "really-a-jpeg.png", jpeg)  # the extension stored is the content's

    assets = post_assets(post, max_bytes=MB, media_url="/media/")

    assert assets.warnings == ()
    assert assets.urls == {
        "chart.png": stored_url(png, "png"),
        "img/anim.gif": stored_url(gif, "gif"),
        "img/pic.webp": stored_url(webp, "webp"),
        "photo.jpeg": stored_url(jpeg, "jpg"),
        "really-a-jpeg.png": stored_url(jpeg, "jpg"),
    }
    assert {(f.name, f.storage_name) for f in assets.files} == {
        (name, url.removeprefix("/media/")) for name, url in assets.urls.items()}
    assert all(Path(f.source).read_bytes() for f in assets.files)


def test_a_text_file_named_png_and_an_svg_are_refused_with_warnings_naming_post_and_file(tmp_path):
    post = markdown_post(tmp_path, "post", "x")
    write_file(tmp_path / "post" / "fake.png", "<html><script>alert(1)</script></html>")
    write_file(tmp_path / "post" / "logo.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    write_file(tmp_path / "post" / "ok.png", image_bytes())

    assets = post_assets(post, max_bytes=MB, media_url="/media/", post_name="source/_posts/post.md")

    assert list(assets.urls) == ["ok.png"]
    assert assets.warnings == (
        "source/_posts/post.md: asset fake.png: not an image (PNG, JPEG, GIF or WebP, checked by content); "
        "not imported",
        "source/_posts/post.md: asset logo.svg: SVG is not accepted (it can carry scripts); not imported",
    )


def test_a_truncated_image_is_refused(tmp_path):
    post = markdown_post(tmp_path, "post", "x")
    write_file(tmp_path / "post" / "cut.png", image_bytes(size=(64, 64))[:60])
    assets = post_assets(post, max_bytes=MB, media_url="/media/")
    assert assets.urls == {}
    assert len(assets.warnings) == 1 and "asset cut.png: " in assets.warnings[0]


def test_an_oversized_file_is_refused_unread(tmp_path):
    post = markdown_post(tmp_path, "post", "x")
    big = image_bytes(size=(300, 300), color="blue")
    write_file(tmp_path / "post" / "big.png", big)
    write_file(tmp_path / "post" / "small.png", image_bytes())

    assets = post_assets(post, max_bytes=len(big) - 1, media_url="/media/")

    assert list(assets.urls) == ["small.png"]
    assert assets.warnings == (
        f"{post}: asset big.png: {len(big):,} bytes, over the {len(big) - 1:,}-byte limit "
        "(NEWSPORTAL_ASSET_MAX_BYTES); not imported",)


def test_links_out_of_the_folder_are_refused_and_links_within_it_followed(tmp_path):
    outside = write_file(tmp_path / "secret" / "key.png", image_bytes(color="green"))
    post = markdown_post(tmp_path / "posts", "post", "x")
    folder = tmp_path / "posts" / "post"
    write_file(folder / "real.png", image_bytes())
    (folder / "escape.png").symlink_to(outside)
    (folder / "dotdot.png").symlink_to(Path("..") / ".." / "secret" / "key.png")
    (folder / "alias.png").symlink_to("real.png")
    (folder / "dir").symlink_to(tmp_path / "secret", target_is_directory=True)

    assets = post_assets(post, max_bytes=MB, media_url="/media/")

    assert sorted(assets.urls) == ["alias.png", "real.png"]
    assert assets.urls["alias.png"] == assets.urls["real.png"]
    assert sorted(assets.warnings) == [
        f"{post}: asset {name}: a link to a file outside the asset folder; not imported"
        for name in ("dir", "dotdot.png", "escape.png")]


def test_a_folder_that_is_a_link_is_not_read(tmp_path):
    write_file(tmp_path / "elsewhere" / "a.png", image_bytes())
    post = markdown_post(tmp_path / "posts", "post", "x")
    (tmp_path / "posts" / "post").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assets = post_assets(post, max_bytes=MB, media_url="/media/")
    assert assets.urls == {} and assets.files == ()
    assert assets.warnings == (f"{post}: asset folder post/ is a symbolic link: not read",)


def test_hidden_underscored_and_temporary_files_are_skipped_as_hexo_skips_them(tmp_path):
    post = markdown_post(tmp_path, "post", "x")
    for name in (".hidden.png", "_draft.png", "_private/a.png", ".git/b.png", "edit.png~", "swap.png%"):
        write_file(tmp_path / "post" / name, "not even an image")
    write_file(tmp_path / "post" / "shown.png", image_bytes())
    assets = post_assets(post, max_bytes=MB, media_url="/media/")
    assert list(assets.urls) == ["shown.png"] and assets.warnings == ()


def test_a_post_without_a_folder_has_no_assets(tmp_path):
    assets = post_assets(markdown_post(tmp_path, "post", "x"), max_bytes=MB, media_url="/media/")
    assert assets.urls == {} and assets.files == () and assets.warnings == ()


def test_the_real_hexo_sites_post_finds_its_screenshots():
    post = HEXO_SITE / "source" / "_posts" / "2014-07-13-hexo-2-8-released.md"
    if not post.is_file():
        pytest.skip(f"the real Hexo site is not at {HEXO_SITE} (it lives in ../shared beside the project)")
    png = (post.with_suffix("") / "generate-console.png").read_bytes()

    assets = post_assets(post, max_bytes=10 * MB, media_url="/media/")

    assert assets.warnings == ()
    assert assets.urls["generate-console.png"] == stored_url(png, "png")
    assert sorted(assets.urls) == ["generate-console.png", "generate-console@2x.png"]
    html, missing = resolve_asset_links(sanitize_body('<p><img src="generate-console.png"></p>'), assets.urls)
    assert missing == [] and f'src="{stored_url(png, "png")}"' in html


# --- the body's links -----------------------------------------------------------


URLS = {"chart.png": "/media/hexo-assets/aa/aa.png", "img/a b.png": "/media/hexo-assets/bb/bb.png",
        "图表.png": "/media/hexo-assets/cc/cc.png"}


def resolved(raw_html: str) -> tuple[str, list[str]]:
    return resolve_asset_links(sanitize_body(raw_html), URLS)


def test_relative_src_and_asset_hrefs_point_at_the_stored_files():
    html, missing = resolved(
        '<p><img src="chart.png" alt="x"> <img src="./img/a%20b.png" alt="y"> '
        '<img src="%E5%9B%BE%E8%A1%A8.png" alt="z"> <a href="chart.png">full size</a></p>')
    assert missing == []
    assert html == (
        '<p><img src="/media/hexo-assets/aa/aa.png" alt="x" referrerpolicy="no-referrer" loading="lazy"> '
        '<img src="/media/hexo-assets/bb/bb.png" alt="y" referrerpolicy="no-referrer" loading="lazy"> '
        '<img src="/media/hexo-assets/cc/cc.png" alt="z" referrerpolicy="no-referrer" loading="lazy"> '
        '<a href="/media/hexo-assets/aa/aa.png" rel="noopener noreferrer nofollow">full size</a></p>')
    assert sanitize_body(html) == html  # still what the sanitiser keeps


def test_absolute_root_relative_and_fragment_references_are_left_alone():
    raw = ('<p><img src="https://cdn.example.com/chart.png" alt=""> <img src="//cdn.example.com/chart.png" alt="">'
           ' <img src="/images/chart.png" alt=""> <a href="#top">top</a> <a href="mailto:a@b.c">mail</a></p>')
    assert resolved(raw) == (sanitize_body(raw), [])


def test_a_missing_file_is_reported_once_and_links_to_pages_are_not():
    html, missing = resolved(
        '<p><img src="gone.png" alt=""> <img src="gone.png" alt=""> <img src="../other/pic.jpg" alt="">'
        ' <a href="report.pdf">report</a> <a href="../2014/other-post/">next</a> <a href="about.html">about</a></p>')
    assert missing == ["gone.png", "../other/pic.jpg", "report.pdf"]
    assert 'src="gone.png"' in html  # left as it was


def test_code_that_shows_an_img_tag_is_not_changed():
    raw = '<pre><code>&lt;img src="chart.png"&gt;</code></pre>'
    assert resolved(raw) == (sanitize_body(raw), [])


def test_the_sanitiser_keeps_media_urls():
    html = '<p><img src="/media/hexo-assets/ab/abc.png" alt="x"></p>'
    assert 'src="/media/hexo-assets/ab/abc.png"' in sanitize_body(html)


# --- importing: storing the files ---------------------------------------------------------


@pytest.fixture
def site(tmp_path) -> Path:
    return tmp_path / "site" / "_posts"


def run(files, **options):
    options.setdefault("workers", 0)
    return import_files(list(files), tz=TZ, post_asset_folder=True, **options)


@pytest.mark.django_db
def test_a_markdown_image_in_the_folder_is_stored_and_shown(site, media_root):
    png = image_bytes()
    post = markdown_post(site, "chart-post", "Look:\n\n![the chart](chart.png)")
    write_file(site / "chart-post" / "chart.png", png)

    report = run([post])

    assert report.errors == [] and report.warnings == [] and report.created == 1
    name = storage_name(sha(png), "png")
    assert stored_files(media_root) == {name: png}
    assert f'<img src="/media/{name}" alt="the chart"' in Article.objects.get().body


@pytest.mark.django_db
def test_a_rejected_file_and_a_missing_one_are_warnings_and_the_post_still_imports(site, media_root):
    post = markdown_post(site, "post", "![a](fake.png)\n\n![b](nowhere.jpg)")
    write_file(site / "post" / "fake.png", "just text")

    report = run([post])

    assert report.created == 1 and report.errors == []
    assert report.warnings == [
        f"{post.resolve()}: asset fake.png: not an image (PNG, JPEG, GIF or WebP, checked by content); not imported",
        f"{post.resolve()}: fake.png is referred to but not in the post's asset folder",
        f"{post.resolve()}: nowhere.jpg is referred to but not in the post's asset folder",
    ]
    assert stored_files(media_root) == {}
    assert 'src="fake.png"' in Article.objects.get().body


@pytest.mark.django_db
def test_the_same_image_in_two_posts_is_stored_once(site, media_root):
    png = image_bytes(color="yellow")
    first = markdown_post(site, "first", "![x](logo.png)")
    second = markdown_post(site, "second", '<p><img src="pics/logo.png" alt="y"></p>')
    write_file(site / "first" / "logo.png", png)
    write_file(site / "second" / "pics" / "logo.png", png)

    report = run([first, second])

    assert report.created == 2 and report.warnings == []
    assert stored_files(media_root) == {storage_name(sha(png), "png"): png}
    assert {stored_url(png, "png") in a.body for a in Article.objects.all()} == {True}


@pytest.mark.django_db
def test_a_re_import_stores_nothing_new(site, media_root, monkeypatch):
    png = image_bytes()
    post = markdown_post(site, "post", "![x](chart.png)")
    write_file(site / "post" / "chart.png", png)
    assert run([post]).created == 1
    stored = media_root / storage_name(sha(png), "png")
    before = stored.stat().st_mtime_ns

    saves = []
    from django.core.files.storage import FileSystemStorage
    original_save = FileSystemStorage.save
    monkeypatch.setattr(FileSystemStorage, "save", lambda self, *a, **k: saves.append(a) or original_save(self, *a, **k))

    assert run([post]).unchanged == 1  # the same post and folder: not even read
    markdown_post(site, "post", "![x](chart.png)\n\nA new paragraph.")  # read again, same image
    report = run([post])

    assert report.updated == 1 and report.warnings == []
    assert saves == [] and stored.stat().st_mtime_ns == before
    assert stored_files(media_root) == {storage_name(sha(png), "png"): png}


@pytest.mark.django_db
def test_a_changed_image_re_imports_its_post(site, media_root):
    post = markdown_post(site, "post", "![x](chart.png)")
    write_file(site / "post" / "chart.png", image_bytes(color="red"))
    run([post])
    blue = image_bytes(color="blue")
    write_file(site / "post" / "chart.png", blue)

    report = run([post])

    assert report.updated == 1
    assert stored_url(blue, "png") in Article.objects.get().body
    assert stored_files(media_root)[storage_name(sha(blue), "png")] == blue


@pytest.mark.django_db
def test_a_dry_run_stores_nothing_and_reports_what_the_real_run_would(site, media_root):
    post = markdown_post(site, "post", "![x](chart.png)\n\n![y](fake.png)")
    write_file(site / "post" / "chart.png", image_bytes())
    write_file(site / "post" / "fake.png", "text")

    report = run([post], dry_run=True)

    assert report.created == 1 and len(report.warnings) == 2
    assert stored_files(media_root) == {} and Article.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_store_is_a_warning_and_the_next_import_stores_it(site, media_root, settings, tmp_path):
    png = image_bytes()
    post = markdown_post(site, "post", "![x](chart.png)")
    write_file(site / "post" / "chart.png", png)
    settings.MEDIA_ROOT = write_file(tmp_path / "not-a-folder", "a file where the media folder should be")

    report = run([post])

    assert report.created == 1 and report.errors == []
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith(f"{post.resolve()}: asset chart.png: not stored (")

    settings.MEDIA_ROOT = media_root
    report = run([post])  # the post is read again, though unchanged, and its file stored

    assert report.warnings == [] and report.unchanged == 1
    assert stored_files(media_root) == {storage_name(sha(png), "png"): png}


@pytest.mark.django_db
def test_without_post_asset_folder_relative_images_are_left_as_they_were(site, media_root):
    post = markdown_post(site, "post", "![x](chart.png)")
    write_file(site / "post" / "chart.png", image_bytes())
    report = import_files([post], tz=TZ, workers=0)
    assert report.warnings == [] and stored_files(media_root) == {}
    assert 'src="chart.png"' in Article.objects.get().body


@pytest.mark.django_db
def test_the_worker_processes_resolve_and_the_writer_stores(site, media_root):
    png = image_bytes()
    posts = [markdown_post(site, f"post-{n}", "![x](chart.png)", title=f"Post {n}") for n in range(3)]
    for post in posts:
        write_file(post.with_suffix("") / "chart.png", png)
    report = run(posts, workers=2)
    assert report.created == 3 and report.warnings == []
    assert stored_files(media_root) == {storage_name(sha(png), "png"): png}


# --- serving --------------------------------------------------------------------


@pytest.mark.django_db
def test_media_files_are_served_by_the_app_in_debug_only(client, media_root, settings):
    png = image_bytes()
    write_file(media_root / "hexo-assets" / "ab" / "abc.png", png)

    settings.DEBUG = True
    response = client.get("/media/hexo-assets/ab/abc.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png
    assert client.get("/media/hexo-assets/ab/missing.png").status_code == 404
    assert client.get("/media/../settings.py").status_code == 400  # Django's path check refuses it

    settings.DEBUG = False
    assert client.get("/media/hexo-assets/ab/abc.png").status_code == 404



def test_text_inside_an_attribute_value_is_not_taken_for_a_link():
    raw = '<p><img alt="see src=" src="chart.png"> <a title="x href=" href="#top">t</a></p>'
    html, missing = resolved(raw)
    assert missing == []
    assert '<img alt="see src=" src="/media/hexo-assets/aa/aa.png"' in html


def test_names_match_whether_written_composed_or_decomposed(tmp_path):
    post = markdown_post(tmp_path, "post", "x")
    write_file(tmp_path / "post" / "cafe\u0301.png", image_bytes())  # é decomposed, as macOS writes names
    assets = post_assets(post, max_bytes=MB, media_url="/media/")
    html, missing = resolve_asset_links(sanitize_body('<p><img src="caf%C3%A9.png" alt=""></p>'), assets.urls)
    assert missing == [] and assets.urls["caf\u00e9.png"] in html
