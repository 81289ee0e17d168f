"""Importing a whole Hexo site from its root: _config.yml, _posts and _drafts, file names, old URLs."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from articles.models import Article, ImportRun, LegacyURL
from importing.hexo_site import (
    PermalinkPost, SiteConfigError, UnknownPermalink, article_slug, file_name_fields, old_path, read_site,
)
from importing.site_links import link_index, linked_posts, named_posts
from importing.hexo_site import site_posts
from tests.factories import HEXO_SITE, staff, write_file

SHARED_SITE = HEXO_SITE
UTC = dt.timezone.utc


def write(path: Path, text: str) -> Path:
    return write_file(path, textwrap.dedent(text).lstrip())


def make_site(root: Path, config: str = "", **posts: str) -> Path:
    """A Hexo site: `_config.yml` and posts given as {'_posts/name.md': text}."""
    write(root / "_config.yml", config or "title: Test\n")
    for name, text in posts.items():
        write(root / "source" / name.replace("__", "/"), text)
    return root


# --- file names ---------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "relative", "expected"), [
    (":year-:month-:day-:title.md", "2014-06-14-hexo-2-7-released.md",
     {"year": "2014", "month": "06", "day": "14", "title": "hexo-2-7-released"}),
    (":year-:month-:day-:title.md", "2019-01-11-hexo-deployer-git-1.0.0_released.md",
     {"year": "2019", "month": "01", "day": "11", "title": "hexo-deployer-git-1.0.0_released"}),
    (":year/:i_month/:i_day/:title.md", "2021/3/9/降息.md",
     {"year": "2021", "i_month": "3", "i_day": "9", "title": "降息"}),
    # A name that does not fit: only a title, the whole path slugged, as Hexo does.
    (":year-:month-:day-:title.md", "notes/hello world.md", {"title": "notes-hello-world"}),
    (":title.md", "金融/财联社/快讯.md", {"title": "金融/财联社/快讯"}),
])
def test_file_names_are_read_through_new_post_name(pattern, relative, expected):
    assert file_name_fields(pattern, relative) == expected


def test_article_slugs_keep_letters_digits_dashes_and_underscores():
    assert article_slug("hexo-deployer-git-1.0.0_released") == "hexo-deployer-git-1-0-0_released"
    assert article_slug("金融/财联社/快讯") == "金融-财联社-快讯"


# --- old addresses --------------------------------------------------------------


def site_with(tmp_path: Path, config: str):
    return read_site(make_site(tmp_path / "site", config))


POST = PermalinkPost(
    slug="hexo-2-7-released", title="Hexo 2.7 Released!",
    published_at=dt.datetime(2014, 6, 13, 17, 5, 9, tzinfo=UTC),  # 2014-06-14 01:05:09 in Shanghai
    category_chains=(("News", "Releases"),), front_matter={"id": 42, "lang": "zh"},
)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("permalink", "expected"), [
    (":year/:month/:day/:title/", "/2014/06/14/hexo-2-7-released/"),
    (":year/:i_month/:i_day/:name.html", "/2014/6/14/hexo-2-7-released.html"),
    (":hour-:minute-:second/:post_title/", "/01-05-09/hexo-2-7-released/"),
    (":category/:id/", "/News/Releases/42/"),
    (":lang/:title/", "/zh/hexo-2-7-released/"),
    (":timestamp/", f"/{int(POST.published_at.timestamp())}/"),
])
def test_old_addresses_follow_the_permalink_pattern_in_the_sites_zone(tmp_path, permalink, expected):
    site = site_with(tmp_path, f"permalink: {permalink}\n")
    assert old_path(site, POST, SHANGHAI) == expected


def test_hash_is_hexos_sha1_of_slug_and_unix_time(tmp_path):
    import hashlib
    site = site_with(tmp_path, "permalink: p/:hash/\n")
    digest = hashlib.sha1(f"hexo-2-7-released{int(POST.published_at.timestamp())}".encode()).hexdigest()[:12]
    assert old_path(site, POST, SHANGHAI) == f"/p/{digest}/"


def test_root_asset_folders_and_the_posts_own_permalink(tmp_path):
    site = site_with(tmp_path, "root: /blog\npermalink: :title\npost_asset_folder: true\n")
    assert old_path(site, POST, SHANGHAI) == "/blog/hexo-2-7-released/"
    own = PermalinkPost(slug="x", title="X", published_at=POST.published_at, front_matter={"permalink": "about/x.html"})
    assert old_path(site, own, SHANGHAI) == "/blog/about/x.html"
    # Without a site, a post's own permalink is still its old address.
    assert old_path(None, own, SHANGHAI) == "/about/x.html"


def test_uncategorised_posts_use_default_category_and_hexos_random_id_is_unknowable(tmp_path):
    site = site_with(tmp_path, "permalink: :category/:title/\ndefault_category: misc\n")
    bare = PermalinkPost(slug="x", title="X", published_at=POST.published_at)
    assert old_path(site, bare, SHANGHAI) == "/misc/x/"
    with pytest.raises(UnknownPermalink, match=":id"):
        old_path(site_with(tmp_path / "b", "permalink: :id/\n"), bare, SHANGHAI)


@pytest.mark.parametrize(("config", "setting"), [
    ("timezone: Mars/Olympus\n", "timezone"),
    ("post_asset_folder: maybe\n", "post_asset_folder"),
    ("permalink: [a, b]\n", "permalink"),
    ("marked: yes please\n", "marked"),
    ("filename_case: 3\n", "filename_case"),
])
def test_a_bad_setting_is_named_with_the_file(tmp_path, config, setting):
    make_site(tmp_path, config)
    with pytest.raises(SiteConfigError) as caught:
        read_site(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / '_config.yml'}: {setting} ")


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    make_site(tmp_path, "title: ok\npermalink: [unclosed\n")
    with pytest.raises(SiteConfigError, match=r"_config.yml: is not valid YAML at line \d"):
        read_site(tmp_path)


# --- importing a site -------------------------------------------------------------

db = pytest.mark.django_db

SITE_CONFIG = """\
title: 快讯
timezone: Asia/Tokyo
root: /blog/
permalink: news/:year/:month/:day/:title/
new_post_name: :year-:month-:day-:title.md
post_asset_folder: true
"""


@pytest.fixture
def site(tmp_path) -> Path:
    return make_site(
        tmp_path / "site", SITE_CONFIG,
        **{
            "_posts/2021-03-09-rate-cut.md": """
                ---
                title: 央行降息
                categories: [金融, 央行]
                ---
                正文
            """,
            # No date, no title: both from the file name, as Hexo reads it.
            "_posts/2021-04-01-no-front.md": "---\ntags: [x]\n---\n只有正文\n",
            # With post_asset_folder, only new_post_name's suffix (.md) makes a post; the rest are assets.
            "_posts/2021-04-01-no-front/notes.txt": "---\ntitle: an asset\n---\n",
            "_posts/_hidden.md": "---\ntitle: hidden\n---\n",
            "_posts/dated.md": "---\ntitle: Dated\ndate: 2021-05-01 09:30:00\n---\nbody\n",
            "_drafts/2021-06-01-draft.md": "---\ntitle: 草稿\n---\n未发表\n",
        },
    )


@db
def test_a_site_root_imports_posts_and_drafts_with_the_sites_settings(run_import, site):
    result = run_import(site)
    assert result.exit_code == 0, result.stderr
    assert "created 4" in result.stdout
    rate_cut = Article.objects.get(title="央行降息")
    # Midnight of the file name's day in the site's zone (Asia/Tokyo), not in the host's.
    assert rate_cut.published_at == dt.datetime(2021, 3, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert rate_cut.slug == "rate-cut"
    assert [u.path for u in rate_cut.legacy_urls.all()] == ["/blog/news/2021/03/09/rate-cut/"]
    untitled = Article.objects.get(slug="no-front")
    assert untitled.title == "no-front"
    assert Article.objects.get(title="Dated").published_at == dt.datetime(2021, 5, 1, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    draft = Article.objects.get(title="草稿")
    assert draft.status == Article.Status.DRAFT
    assert not Article.objects.filter(title__in=["hidden", "an asset"]).exists()
    assert ImportRun.objects.get().status == ImportRun.Status.SUCCEEDED


@db
def test_timezone_option_overrides_the_sites(run_import, site):
    assert run_import(site, "--timezone", "UTC").exit_code == 0
    assert Article.objects.get(title="央行降息").published_at == dt.datetime(2021, 3, 9, tzinfo=UTC)


@db
def test_reimporting_a_site_changes_nothing_and_a_new_setting_reprocesses(run_import, site):
    run_import(site)
    again = run_import(site)
    assert "created 0, updated 0, unchanged 4" in again.stdout
    config = site / "_config.yml"
    config.write_text(config.read_text().replace("news/:year", "archives/:year"), encoding="utf-8")
    third = run_import(site)
    assert "updated 0, unchanged 4" not in third.stdout
    # Both old addresses now lead to the article: links to either exist somewhere.
    paths = set(Article.objects.get(title="央行降息").legacy_urls.values_list("path", flat=True))
    assert paths == {"/blog/news/2021/03/09/rate-cut/", "/blog/archives/2021/03/09/rate-cut/"}


@db
def test_a_bad_config_fails_that_site_alone(run_import, site, tmp_path):
    (site / "_config.yml").write_text("timezone: Nowhere/Here\n", encoding="utf-8")
    plain = write(tmp_path / "plain" / "post.md", "---\ntitle: Plain\ndate: 2021-01-01\n---\nbody\n")
    result = run_import(site, plain.parent)
    assert result.exit_code == 3  # some files failed
    assert f"{site / '_config.yml'}: timezone 'Nowhere/Here' is not a known time zone" in result.stderr
    assert list(Article.objects.values_list("title", flat=True)) == ["Plain"]


@db
def test_old_addresses_answer_with_a_301_to_the_article(run_import, site, client):
    run_import(site)
    article = Article.objects.get(title="央行降息")
    for old in ("/blog/news/2021/03/09/rate-cut/", "/blog/news/2021/03/09/rate-cut/index.html",
                "/blog/news/2021/03/09/rate-cut"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"] == article.get_absolute_url()
    assert client.get(response["Location"]).status_code == 200


@db
def test_drafts_and_future_posts_get_no_public_redirect(run_import, site, client):
    write(site / "source" / "_posts" / "2999-01-01-future.md", "---\ntitle: Future\n---\nlater\n")
    run_import(site)
    assert LegacyURL.objects.filter(path="/blog/news/2999/01/01/future/").exists()
    assert client.get("/blog/news/2999/01/01/future/").status_code == 404
    # A draft is never public: it gets no old address at all in Hexo (no path) and none here to follow.
    draft = Article.objects.get(title="草稿")
    for row in draft.legacy_urls.all():
        assert client.get(row.path).status_code == 404


@db
def test_a_post_whose_old_address_is_its_new_one_is_served_without_a_redirect(run_import, tmp_path, client):
    site = make_site(tmp_path / "s", "timezone: Asia/Shanghai\npermalink: :year/:month/:day/:title/\n",
                     **{"_posts/same.md": "---\ntitle: Same\ndate: 2021-02-03 10:00\n---\nbody\n"})
    run_import(site)
    article = Article.objects.get(title="Same")
    assert article.get_absolute_url() == "/2021/02/03/same/"
    assert not article.legacy_urls.exists()
    assert client.get("/2021/02/03/same/").status_code == 200


@db
def test_a_single_posts_own_permalink_redirects_too(run_import, tmp_path, client):
    post = write(tmp_path / "p.md", "---\ntitle: Own\ndate: 2021-02-03 10:00\npermalink: old/own.html\n---\nbody\n")
    run_import(post)
    response = client.get("/old/own.html")
    assert response.status_code == 301
    assert response["Location"] == Article.objects.get(title="Own").get_absolute_url()


def test_post_links_resolve_through_the_sites_index(site):
    index = link_index(list(site_posts(read_site(site))), ZoneInfo("Asia/Tokyo"))
    ref = index["rate-cut"]
    assert (ref.url, ref.title) == ("/blog/news/2021/03/09/rate-cut/", "央行降息")
    assert index["央行降息"] == ref  # post_link finds a post by its title too
    assert "draft" not in index


def test_each_post_is_handed_only_the_posts_its_tags_name(site):
    text = ("{% post_link rate-cut %} {% post_path '央行降息' %} {%post_link no-front#top 'see' %} "
            "{% post_link missing %} {% post_link").encode()
    assert named_posts(text) == {"rate-cut", "央行降息", "no-front", "missing"}
    assert named_posts("no tags here".encode()) == set()
    index = link_index(list(site_posts(read_site(site))), ZoneInfo("Asia/Tokyo"))
    handed = linked_posts(named_posts(text), index)
    assert set(handed) == {"rate-cut", "央行降息", "no-front"}  # the missing one is the tag's to report
    assert handed["rate-cut"] == handed["央行降息"] == index["rate-cut"]


@db
def test_a_linking_post_is_reimported_only_when_a_post_it_names_changes(run_import, site):
    write(site / "source" / "_posts" / "2021-03-12-links.md", "---\ntitle: 链接\n---\n{% post_link rate-cut %}\n")
    run_import(site)
    write(site / "source" / "_posts" / "dated.md", "---\ntitle: Dated\ndate: 2021-05-01 09:30:00\nslug: dated-2\n---\nbody\n")
    # A new address for a post the link does not name: the edited post alone is read again.
    assert "updated 1, unchanged 4" in run_import(site).stdout
    write(site / "source" / "_posts" / "2021-03-09-rate-cut.md", "---\ntitle: 央行降息\nslug: rate-cut-2\n---\n正文\n")
    assert "updated 2, unchanged 3" in run_import(site).stdout  # and the post whose link goes to its address
    assert LegacyURL.objects.filter(path="/blog/news/2021/03/09/rate-cut-2/").exists()


# --- the real site -------------------------------------------------------------------


@pytest.fixture
def real_site() -> Path:
    if not (SHARED_SITE / "_config.yml").is_file():
        pytest.skip(f"the real Hexo site is not at {SHARED_SITE} (it lives in ../shared beside the project)")
    return SHARED_SITE


@db
def test_the_real_hexo_site_imports_all_58_posts_with_old_urls(run_import, real_site, client):
    result = run_import(real_site)
    assert result.exit_code == 0, result.stderr
    assert Article.objects.count() == 58
    # 55 posts have no date: the file name's day, midnight UTC (the site's timezone).
    article = Article.objects.get(title="Hexo 2.7 Released")
    assert article.published_at == dt.datetime(2014, 6, 14, tzinfo=UTC)
    assert client.get("/news/2014/06/14/hexo-2-7-released/")["Location"] == article.get_absolute_url()
    assert LegacyURL.objects.count() == 58
    assert os.path.basename(str(ImportRun.objects.get().sources[0])) == "hexo-site"


@db
def test_editors_find_old_urls_in_the_admin_and_authors_do_not(run_import, site, client, desk):
    run_import(site)
    client.force_login(desk)
    page = client.get("/admin/articles/legacyurl/", {"q": "rate-cut"})
    assert page.status_code == 200
    assert "/blog/news/2021/03/09/rate-cut/" in page.content.decode()
    client.force_login(staff("writer", "Authors"))
    assert client.get("/admin/articles/legacyurl/").status_code == 403


@db
def test_links_to_old_addresses_point_at_the_articles_after_the_run(run_import, site, client):
    write(site / "source" / "_posts" / "2021-03-10-follow-up.md", """
        ---
        title: 续
        ---
        见[上文](/blog/news/2021/03/09/rate-cut/#正文)，以及[外站](https://example.com/blog/news/2021/03/09/rate-cut/)。
    """)
    run_import(site)
    body = Article.objects.get(title="续").body
    target = Article.objects.get(title="央行降息").get_absolute_url()
    assert f'href="{target}#正文"' in body or f'href="{target}#%E6%AD%A3%E6%96%87"' in body
    assert 'href="https://example.com/blog/news/2021/03/09/rate-cut/"' in body
    # A link to a draft's old address is left as written: it leads nowhere public either way.
    write(site / "source" / "_posts" / "2021-03-11-to-draft.md",
          "---\ntitle: 草稿链接\n---\n[草稿](/blog/news/2021/06/01/draft/)\n")
    run_import(site)
    assert 'href="/blog/news/2021/06/01/draft/"' in Article.objects.get(title="草稿链接").body


@db
def test_an_overlong_old_address_is_a_warning_and_the_post_still_imports(run_import, tmp_path):
    post = write(tmp_path / "p.md", f"---\ntitle: Long\ndate: 2021-02-03\npermalink: /{'长' * 700}/\n---\nbody\n")
    result = run_import(post)
    assert result.exit_code == 0
    assert "permalink: the old address is over 2,000 bytes: no redirect from it" in result.stderr
    assert not LegacyURL.objects.exists()
