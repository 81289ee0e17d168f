"""Hundreds of XSS filter-evasion vectors, through every way in and every page out.

Each vector of tests/data/xss_vectors.txt (plus its combinatorial variants,
tests/xss_corpus.py) becomes one article whose title, author, category, tag
and body are that vector. The articles are imported with import_articles, and
a sample is also saved through the admin; then the public pages, feeds,
sitemaps and admin pages that show them are parsed the HTML5 way and must hold
nothing script-capable (tests/html_safety.py), while titles and names still
read as the literal text they are.

Pages are fetched in batches (listings 20 or 100 at a time) so the whole run
stays well under a minute on a small machine.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article, Author, Category
from importing.parse import MAX_NAME_CHARS, normalize_name
from articles.sanitize import sanitize_body
from tests import html_safety
from tests.factories import add_form
from tests.xss_corpus import all_vectors, file_vectors, generated_vectors

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # slow: hundreds of vectors through every page: about a minute

VECTORS = all_vectors()
GROUP = 20  # one listing page
START = dt.datetime(2022, 4, 30, 1, 0, 0, tzinfo=dt.timezone.utc)  # 09:00 in Beijing
# Tag and author pages show a name only in their own heading, so they are
# fetched for a deterministic sample; everywhere else every vector is seen.
SAMPLE = VECTORS[::5]
# Saving through the admin runs the same model code as the import: a smaller
# sample, every family still represented.
ADMIN_SAMPLE = VECTORS[::15]


def as_name(vector: str) -> str:
    return vector[:MAX_NAME_CHARS]


def group_of(index: int) -> str:
    return f"xss组{index // GROUP:02d}"


def post_file(index: int, vector: str) -> str:
    """A post with JSON front matter, which can hold any string exactly."""
    front = {
        "title": vector,
        "date": (START + dt.timedelta(seconds=index)).isoformat(),
        "author": as_name(vector),
        "categories": [group_of(index), as_name(vector)],
        "tags": [as_name(vector), group_of(index)],
    }
    return ";;;\n" + json.dumps(front, ensure_ascii=False) + "\n;;;\n" + vector + "\n"


def assert_inert(html: str, where: str) -> html_safety.ElementTree.Element:
    tree = html_safety.parse(html)
    found = html_safety.problems(tree)
    assert found == [], f"{where}: {found[:5]}"
    for body in html_safety.find_all(tree, "div", "article-body"):
        # Inside an article body only the sanitiser's allow-list may appear.
        extra = {e.tag for e in body.iter()} - {"div", *sanitize_allowed()}
        assert not extra, f"{where}: article body holds {extra}"
    return tree


def as_parsed(text: str) -> str:
    """`text` as an HTML parser reads it back (line breaks normalised)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sanitize_allowed() -> set[str]:
    from articles.sanitize import ALLOWED_TAGS
    return set(ALLOWED_TAGS)


def get_ok(client, url: str, **params) -> str:
    # follow: ?page=N of a listing redirects to its key (?before=…)
    response = client.get(url, params, follow=True)
    assert response.status_code == 200, (url, params, response.status_code)
    return response.content.decode()


def test_corpus_has_hundreds_of_vectors_from_every_family():
    assert len(file_vectors()) >= 300 and len(generated_vectors()) >= 200 and len(VECTORS) >= 500
    text = "\n".join(VECTORS).lower()
    for family in ("<script", "onerror=", "javascript:", "&#106;", "vbscript:", "data:text/html", "expression(",
                   "url(", "<svg", "<math", "<noscript", "<style", "<textarea", "<!--", "formaction", "srcdoc",
                   "\u200b", "\u00ad", "\ufeff", "xlink:href", "<base", "http-equiv", "<iframe", "<object",
                   "<embed", "<form", "<template", "mglyph", "annotation-xml"):
        assert family in text, family


def test_the_sanitiser_leaves_nothing_script_capable_in_any_vector():
    failures = []
    for vector in VECTORS:
        for body in (vector, f"<p>前文</p>{vector}<p>后文</p>", f"纯文本\n{vector}\n另一行"):
            cleaned = sanitize_body(body)
            # Saved again (every save sanitises), the output must stay inert:
            # a mutation on re-parsing is how mutation XSS gets through.
            again = sanitize_body(cleaned)
            if html_safety.problems(cleaned) or html_safety.problems(again):
                failures.append((vector, cleaned, again))
    assert failures == []


@pytest.fixture
def imported(run_import, tmp_path):
    for index, vector in enumerate(VECTORS):
        (tmp_path / f"v{index:04d}.md").write_text(post_file(index, vector), encoding="utf-8")
    result = run_import(tmp_path)
    assert result.exit_code == 0, result.stderr[:3000]
    assert Article.objects.published().count() == len(VECTORS)
    return {a.title: a for a in Article.objects.select_related("author")}


def test_imported_vectors_are_inert_on_every_public_page_feed_and_sitemap(client, imported):
    groups = math.ceil(len(VECTORS) / GROUP)

    # The article pages: title, author, category trail, tags, body, JSON-LD,
    # previous/next and related titles.
    for vector in VECTORS:
        article = imported[vector.strip()] if vector.strip() in imported else imported[vector]
        tree = assert_inert(get_ok(client, article.get_absolute_url()), f"article {vector!r}")
        heading = html_safety.text_of(html_safety.find_all(tree, "h1")[0])
        assert heading == as_parsed(article.title), (heading, article.title)
        names = html_safety.text_of(tree)
        assert as_parsed(article.author.name) in names
        assert normalize_name(as_name(vector)) == article.author.name
        for script in html_safety.find_all(tree, "script"):
            if script.get("type") == "application/ld+json":
                assert json.loads(script.text)["headline"] == article.title[:110]

    # Listings, 20 a page: titles, excerpts, category trails, author names.
    for page in range(1, groups + 1):
        assert_inert(get_ok(client, "/", page=page), f"home page {page}")
        assert_inert(get_ok(client, "/archive/2022/04/30/", page=page), f"day archive page {page}")
    for url in ("/category/", "/archive/", "/archive/2022/", "/archive/2022/04/"):
        assert_inert(get_ok(client, url), url)
    for page in range(1, 4):
        assert_inert(get_ok(client, "/search/", q="alert", page=page), f"search page {page}")

    # Each group's category page lists its vector-named sub-categories and
    # articles; each group's tag page and feeds list its articles.
    for index in range(0, len(VECTORS), GROUP):
        category = Category.objects.get(name=group_of(index), parent=None)
        tree = assert_inert(get_ok(client, category.get_absolute_url()), f"category {category.name}")
        shown = html_safety.text_of(tree)
        for child in category.children.all():
            assert child.name in shown
        tag = Tag.objects.get(name=group_of(index))
        assert_inert(get_ok(client, reverse("articles:tag", args=[tag.slug])), f"tag {tag.name}")
        for feed in ("articles:tag-feed", "articles:tag-feed-atom"):
            assert_feed_inert(get_ok(client, reverse(feed, args=[tag.slug])), f"{feed} {tag.name}")
    for feed in ("/feed/", "/feed/atom/"):
        assert_feed_inert(get_ok(client, feed), feed)

    # Vector-named tag and author pages (their names in headings and titles).
    for vector in SAMPLE:
        name = normalize_name(as_name(vector))
        tag = Tag.objects.get(name__iexact=name)
        tree = assert_inert(get_ok(client, reverse("articles:tag", args=[tag.slug])), f"tag {name!r}")
        assert name.lower() in html_safety.text_of(tree).lower()
        author = Author.objects.get(name=name)
        tree = assert_inert(get_ok(client, author.get_absolute_url()), f"author {name!r}")
        assert name in html_safety.text_of(tree)

    # Sitemaps: every <loc> is an http(s) URL on this site.
    index = ElementTree.fromstring(get_ok(client, "/sitemap.xml"))
    sections = [loc.text for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert sections
    for section in sections:
        xml = ElementTree.fromstring(get_ok(client, section.replace("http://testserver", "")))
        for loc in xml.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc"):
            assert loc.text.startswith("http://testserver/"), loc.text
    ElementTree.fromstring(get_ok(client, "/sitemap-news.xml"))


def assert_feed_inert(xml: str, where: str) -> None:
    """Feed readers render descriptions and content as HTML: that HTML must be inert."""
    root = ElementTree.fromstring(xml)  # well-formed XML, whatever the titles held
    atom = "{http://www.w3.org/2005/Atom}"
    for element in root.iter():
        if element.tag in ("description", f"{atom}content", f"{atom}summary") and element.text:
            found = html_safety.problems(element.text)
            assert found == [], f"{where}: {found[:5]}"
        if element.tag in ("link", f"{atom}link"):
            href = element.get("href") or element.text or ""
            assert href.startswith(("http://testserver/", "/")), f"{where}: link {href!r}"


def test_vectors_saved_through_the_admin_are_inert_in_the_admin_and_on_the_site(client, imported):
    editor = User.objects.create_superuser("desk", password="pw-desk-2024")
    client.force_login(editor)
    category = Category.objects.get(name=group_of(0), parent=None)
    saved = []
    for index, vector in enumerate(ADMIN_SAMPLE):
        title = f"后台{index} {vector}"[:500]
        response = client.post(reverse("admin:articles_article_add"), add_form(
            title, body=vector, status="published", slug=f"admin-xss-{index}",
            published_at_0="2022-05-01", published_at_1=f"10:{index // 60:02d}:{index % 60:02d}",
            **{"articlecategory_set-0-category": str(category.pk), "tags": json.dumps(as_name(vector))}))
        assert response.status_code == 302, (vector, html_safety.problems(response.content.decode())[:3])
        saved.append(Article.objects.get(slug=f"admin-xss-{index}"))
        # Authors and tags can be named by the admin too.
        client.post(reverse("admin:articles_author_add"), {"name": f"后台{index}{vector}"[:100], "slug": f"a-{index}"})
        client.post(reverse("admin:taggit_tag_add"), {"name": f"后台{index}{vector}"[:100], "slug": f"t-{index}"})

    for article in saved:
        tree = assert_inert(get_ok(client, article.get_absolute_url()), f"public {article.title!r}")
        assert html_safety.text_of(html_safety.find_all(tree, "h1")[0]) == as_parsed(article.title)
        change = get_ok(client, reverse("admin:articles_article_change", args=[article.pk]))
        assert_inert(change, f"admin change {article.title!r}")

    for model in ("article", "author", "category"):
        url = reverse(f"admin:articles_{model}_changelist")
        count = {"article": Article, "author": Author, "category": Category}[model].objects.count()
        for page in range(math.ceil(count / 100)):
            assert_inert(get_ok(client, url, p=page + 1), f"admin {model} list page {page + 1}")
    for page in range(math.ceil(Tag.objects.count() / 100)):
        assert_inert(get_ok(client, reverse("admin:taggit_tag_changelist"), p=page + 1), f"admin tags {page}")
    for vector in ADMIN_SAMPLE[:10]:
        name = normalize_name(as_name(vector))
        author = Author.objects.get(name=name)
        assert_inert(get_ok(client, reverse("admin:articles_author_change", args=[author.pk])), f"author {name!r}")
        leaf = Category.objects.filter(name=name).first()
        assert_inert(get_ok(client, reverse("admin:articles_category_change", args=[leaf.pk])), f"cat {name!r}")
    found = get_ok(client, reverse("admin:articles_article_changelist"), q="alert")
    assert_inert(found, "admin search")
