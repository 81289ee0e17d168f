"""The public site over HTTP: listings, archives, article pages, filters, SEO."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.utils import timezone

from articles.content_version import content_state
from articles.models import Article, Category
from articles.hot import hot_ids
from tests.factories import chain, html, publish

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc


class _Head(HTMLParser):
    """Collects <title>, <meta>, <link rel> and JSON-LD from a page."""

    def __init__(self):
        super().__init__()
        self.meta, self.links, self.json_ld, self.title = {}, {}, [], ""
        self._in = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta":
            self.meta[a.get("name") or a.get("property")] = a.get("content")
        elif tag == "link":
            self.links.setdefault(a.get("rel"), a.get("href"))
        elif tag in ("title", "script") and (tag == "title" or a.get("type") == "application/ld+json"):
            self._in = tag

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            self.json_ld.append(json.loads(data))

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None


def head_of(response) -> _Head:
    parser = _Head()
    parser.feed(html(response))
    return parser


@pytest.fixture
def hidden():
    """A draft and a scheduled article that must never show anywhere."""
    deep = chain("金融", "财联社", "深度")
    draft = publish("隐藏草稿券商", status=Article.Status.DRAFT, categories=[deep], tags=["券商"], author="财联社")
    scheduled = publish("隐藏定时券商", timezone.now() + dt.timedelta(days=2), categories=[deep], tags=["券商"],
                        author="财联社")
    return draft, scheduled


# --- home and listings --------------------------------------------------------


def test_home_lists_latest_with_card_details(client, seeded):
    page = html(client.get("/"))
    first, second = (m.start() for m in (re.search("湘财证券", page), re.search("华林证券", page)))
    assert first < second  # newest first
    assert "2022年8月14日 19:22" in page  # Beijing time
    assert 'loading="lazy"' in page and "https://img.cls.cn/images/20220814/W209352igv.jpg" in page
    assert unquote(Category.objects.get(path="金融/财联社/深度").get_absolute_url()) in unquote(page)
    assert "/author/财联社/" in unquote(page)


def test_listing_pages_of_20_and_bad_pages(client):
    base = timezone.now() - dt.timedelta(days=1)
    for i in range(45):
        publish(f"文章{i:02d}", base - dt.timedelta(minutes=i))
    page1, page3 = html(client.get("/")), html(client.get("/?page=3", follow=True))
    assert page1.count('class="card"') == 20 and page3.count('class="card"') == 5
    assert "文章00" in page1 and "文章44" in page3
    for bad in ("abc", "999999", "0", "-1"):
        assert client.get(f"/?page={bad}").status_code == 404
    for bad in ("before=x", "after=1-", "before=99999999999999999999999-1"):
        assert client.get(f"/?{bad}").status_code == 404


def warm_minute_caches() -> None:
    """What listings keep for minutes whatever is written (the hot list): warm, as on a running site."""
    hot_ids()


def test_listing_query_count_is_constant(client, django_assert_max_num_queries):
    deep = chain("金融", "财联社", "深度")
    for i in range(5):
        publish(f"少{i}", categories=[deep], tags=["券商"], author="甲")
    warm_minute_caches()
    # The home page: its list and the front page's blocks (articles.front), loaded together.
    with django_assert_max_num_queries(10) as few:
        client.get("/")
    with django_assert_max_num_queries(10) as few_in_category:
        client.get(deep.get_absolute_url())
    for i in range(30):
        publish(f"多{i}", categories=[deep], tags=["券商", f"t{i}"], author=f"作者{i}")
    content_state()  # the process learns what the writes changed once per change, not per page (content_keys)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        client.get("/")
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]
    with django_assert_max_num_queries(len(few_in_category.captured_queries)):
        client.get(deep.get_absolute_url())


# --- visibility -------------------------------------------------------------------


def test_drafts_and_scheduled_never_appear(client, seeded, hidden):
    draft, scheduled = hidden
    tag_url = "/tag/券商/"
    urls = ["/", "/category/", "/category/金融/", "/category/金融/财联社/深度/", "/author/财联社/", tag_url,
            "/archive/", "/feed/", "/feed/atom/", "/feed/tag/券商/", "/feed/category/金融/", "/sitemap.xml",
            "/sitemap-news.xml", f"/sitemap-{timezone.now().year}.xml",
            seeded.last().get_absolute_url(), seeded.first().get_absolute_url()]
    for url in urls:
        response = client.get(url)
        if response.status_code == 404:
            continue
        body = response.content.decode()
        assert "隐藏" not in body, url
        assert draft.slug not in unquote(body) and scheduled.slug not in unquote(body), url
    for article in hidden:
        assert client.get(article.get_absolute_url()).status_code == 404
    # counts: the 深度 category shows 2 published, not 4
    tree = html(client.get("/category/"))
    assert re.search(r"深度</a> <span class=\"meta\">\(2\)", tree)


# --- categories --------------------------------------------------------------------


def test_category_includes_descendants_with_breadcrumbs_and_children(client, seeded):
    publish("电报快讯", categories=[chain("金融", "财联社", "电报")])
    publish("科技新闻", categories=[chain("科技")])
    top = html(client.get("/category/金融/"))
    assert "华林证券" in top and "湘财证券" in top and "电报快讯" in top and "科技新闻" not in top
    assert re.search(r"财联社 <span class=\"meta\">\(3\)</span>", top)
    leaf = html(client.get("/category/金融/财联社/电报/"))
    assert "电报快讯" in leaf and "华林证券" not in leaf
    assert '<nav class="breadcrumbs"' in leaf and unquote(leaf).count('href="/category/金融/"') >= 1
    assert client.get("/category/金融/不存在/").status_code == 404


def test_category_index_lists_the_tree(client, seeded):
    page = html(client.get("/category/"))
    assert page.index(">金融<") < page.index(">财联社<") < page.index(">深度<")
    assert 'class="depth-2"' in page


def test_admin_style_link_to_a_leaf_reaches_its_ancestors(client):
    article = publish("只链接叶子")
    article.categories.add(chain("金融", "中证网", "资讯"))
    assert set(article.categories.values_list("path", flat=True)) == {"金融", "金融/中证网", "金融/中证网/资讯"}
    assert "只链接叶子" in html(client.get("/category/金融/"))


# --- tags, authors, filters --------------------------------------------------------


def test_tag_and_author_pages(client):
    publish("有标签", tags=["券商", "腾讯"], author="记者甲")
    publish("无标签", author="记者乙")
    tag_page = html(client.get("/tag/券商/"))
    assert "有标签" in tag_page and "无标签" not in tag_page
    assert "有标签" in html(client.get("/author/记者甲/")) and "无标签" not in html(client.get("/author/记者甲/"))
    assert client.get("/tag/没有/").status_code == 404 and client.get("/author/没有/").status_code == 404


def test_filters_combine_and_survive_pagination(client):
    deep = chain("金融", "财联社", "深度")
    start = dt.datetime(2022, 5, 1, 2, 0, tzinfo=UTC)
    for i in range(25):
        publish(f"券商{i}", start + dt.timedelta(hours=i), categories=[deep], tags=["券商"], author="甲")
    publish("其他", start, tags=["其他"], author="乙")
    page = html(client.get("/?tag=券商&author=甲&category=金融/财联社"))
    assert page.count('class="card"') == 20 and ">其他</a>" not in page  # (the tag 其他 is in the picker)
    next_link = re.search(r'rel="next" href="([^"]+)"', page).group(1)
    assert "tag=" in next_link and "author=" in next_link and "before=" in next_link
    page2 = html(client.get("/" + next_link.replace("&amp;", "&")))
    assert page2.count('class="card"') == 5
    ranged = html(client.get("/?date_from=2022-05-01&date_to=2022-05-01"))
    assert ranged.count('class="card"') == 15  # 10:00..23:00 Beijing on 1 May, plus 其他 = 14 + 1


@pytest.mark.parametrize("query", ["date_from=not-a-date", "date_to=2022-13-45", "tag=nope", "author=x",
                                   "category=a/b/c", "page=abc&tag=券商"])
def test_bad_filter_values_give_empty_results_or_404_never_500(client, query):
    publish("某文章", tags=["券商"])
    response = client.get(f"/?{query}")
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert "某文章" not in response.content.decode()


# --- archives -----------------------------------------------------------------------


def test_archive_index_years_and_months_with_counts(client, seeded):
    publish("旧闻", dt.datetime(2021, 3, 26, 23, 59, 58, tzinfo=UTC))
    page = html(client.get("/archive/"))
    assert re.search(r"2022年</strong></a> <span class=\"meta\">\(2\)", page)
    assert re.search(r"4月 <span class=\"meta\">\(1\)", page) and re.search(r"8月 <span class=\"meta\">\(1\)", page)
    assert "2021年" in page and "3月" in page


def test_year_month_day_archives_and_navigation(client, seeded):
    publish("旧闻", dt.datetime(2021, 3, 26, 23, 59, 58, tzinfo=UTC))
    year = html(client.get("/archive/2022/"))
    assert "华林证券" in year and "湘财证券" in year and 'href="/archive/2022/04/"' in year
    assert 'href="/archive/2021/"' in year  # previous non-empty year
    month = html(client.get("/archive/2022/04/"))
    assert "华林证券" in month and "湘财证券" not in month
    assert 'href="/archive/2022/08/"' in month and 'href="/archive/2021/03/"' in month  # skips empty months
    day = html(client.get("/archive/2022/04/30/"))
    assert "华林证券" in day


def test_beijing_midnight_boundary_in_archives(client):
    publish("跨午夜", dt.datetime(2021, 3, 26, 23, 59, 58, tzinfo=UTC))
    assert "跨午夜" in html(client.get("/archive/2021/03/27/"))
    assert client.get("/archive/2021/03/26/").status_code == 404
    publish("午夜前", dt.datetime(2021, 3, 31, 15, 59, 59, tzinfo=UTC))  # 23:59:59 on 31 March in Beijing
    publish("午夜后", dt.datetime(2021, 3, 31, 16, 0, 0, tzinfo=UTC))  # 00:00 on 1 April in Beijing
    march, april = html(client.get("/archive/2021/03/")), html(client.get("/archive/2021/04/"))
    assert "午夜前" in march and "午夜后" not in march and "午夜后" in april


@pytest.mark.parametrize("url", ["/archive/2022/13/", "/archive/2022/02/30/", "/archive/1999/",
                                 "/archive/2022/05/", "/archive/2022/04/29/", "/archive/0000/"])
def test_empty_or_impossible_periods_are_404(client, seeded, url):
    assert client.get(url).status_code == 404


# --- the article page ---------------------------------------------------------------


def test_article_page(client, seeded):
    article = Article.objects.get(title__startswith="涨停有因")
    article.tags.add("券商", "火山引擎")
    related = publish("相关：券商观察", tags=["券商"])
    page = html(client.get(article.get_absolute_url()))
    assert "华林证券继续加码IT投入" in page
    assert 'referrerpolicy="no-referrer"' in page
    assert "2022年4月30日 09:33" in page and "阅读约" in page
    assert 'rel="tag"' in page and "/tag/券商/" in unquote(page)
    assert '<nav class="breadcrumbs"' in page and "/category/金融/财联社/深度/" in unquote(page)
    assert "下一篇" in page and "湘财证券" in page  # the newer seed
    assert related.title in page


def test_changed_slug_redirects_permanently(client, seeded):
    article = Article.objects.get(title__startswith="涨停有因")
    old_url = article.get_absolute_url()
    article.slug = "华林证券-火山引擎"
    article.save()
    response = client.get(old_url)
    assert response.status_code == 301 and unquote(response["Location"]) == "/2022/04/30/华林证券-火山引擎/"
    assert client.get(response["Location"]).status_code == 200


def test_reading_time_counts_chinese_characters(client):
    article = publish("长文", body="<p>" + "字" * 2000 + "</p>")
    assert "阅读约 5 分钟" in html(client.get(article.get_absolute_url()))


# --- SEO ------------------------------------------------------------------------------


def test_seo_tags_on_article_page(client, seeded):
    article = Article.objects.get(title__startswith="涨停有因")
    head = head_of(client.get(article.get_absolute_url()))
    assert head.title.startswith(article.title)
    assert head.meta["description"] == article.excerpt and len(article.excerpt) <= 140
    assert unquote(head.links["canonical"]) == "http://testserver/2022/04/30/" + article.slug + "/"
    assert head.meta["og:type"] == "article" and head.meta["og:title"] == article.title
    assert head.meta["og:image"] == article.head_image == head.meta["twitter:image"]
    assert head.meta["twitter:card"] == "summary_large_image"
    [ld] = head.json_ld
    assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title
    assert ld["datePublished"] == "2022-04-30T01:33:09+00:00" and ld["image"] == [article.head_image]
    # the dateline's reporter as a person, then the outlet
    assert [(a["@type"], a["name"]) for a in ld["author"]] == [("Person", "黄靖斯"), ("Organization", "财联社")]


def test_seo_tags_on_listings(client, seeded):
    head = head_of(client.get("/category/金融/财联社/"))
    assert "财联社" in head.title and head.meta["description"] and head.links["canonical"]
    assert head.links["alternate"]


def test_json_ld_cannot_break_out_of_its_script(client):
    article = publish("</script><script>alert(1)</script>")
    page = html(client.get(article.get_absolute_url()))
    assert "<script>alert(1)" not in page


# --- errors ---------------------------------------------------------------------------


def test_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_404_page_names_itself_and_claims_no_url(client):
    # A 404 has no URL of its own: an empty canonical link or og:url is invalid HTML.
    response = client.get("/no/such/page/")
    head = _Head()
    head.feed(response.content.decode())
    assert head.title.startswith("页面不存在")
    assert "canonical" not in head.links and "og:url" not in head.meta


@pytest.mark.slow
@pytest.mark.parametrize("url", ["/", "/category/金融/", "/tag/券商/", "/author/甲/", "/archive/{y}/",
                                 "/archive/{y}/{m}/", "/search/?q=券商", "/feed/", "/feed/atom/"])
def test_every_listing_runs_the_same_queries_whatever_its_size(client, url, django_assert_max_num_queries):
    now = timezone.localtime()
    url = url.format(y=now.year, m=f"{now.month:02d}")
    deep = chain("金融", "财联社", "深度")

    def add(n: int, prefix: str) -> None:
        for i in range(n):
            publish(f"{prefix}券商{i}", timezone.now() - dt.timedelta(minutes=i + 1), categories=[deep],
                    tags=["券商", f"{prefix}{i}"], author="甲")

    add(3, "少")
    warm_minute_caches()
    with django_assert_max_num_queries(12) as small:
        assert client.get(url).status_code == 200
    add(30, "多")
    content_state()  # the process learns what the writes changed once per change, not per page (content_keys)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_server_error_page_is_friendly():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "服务器出了点问题" in page and 'href="/"' in page


@pytest.mark.slow
def test_static_files_are_hashed_and_compressed(tmp_path):
    """Production static files: collectstatic writes hashed names and .gz/.br copies."""
    import os
    import subprocess
    import sys

    from tests.factories import PROJECT

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "newsportal.settings", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": "x", "DJANGO_STATIC_ROOT": str(tmp_path)}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=PROJECT, env=env,
                   check=True, timeout=300)
    css = [p.name for p in (tmp_path / "css").iterdir()]
    hashed = [n for n in css if re.fullmatch(r"site\.[0-9a-f]{12}\.css", n)]
    assert hashed and f"{hashed[0]}.gz" in css, css
    assert (tmp_path / "staticfiles.json").exists()
