"""Who can reach what: the public, Authors and their colleagues' work, by any URL.

The URL lists are data: when a feature adds admin URLs (revision history,
import runs, the upload page), add them to OBJECT_URLS / LIST_URLS; the sweep of
every admin URL for the anonymous public picks new routes up by itself.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from articles.models import Article, Author, Category
from tests.factories import add_form, staff

pytestmark = pytest.mark.django_db

SECRET = "机密草稿"

# URLs about one article, as (url name, how to build its args from the article).
OBJECT_URLS = [
    ("admin:articles_article_change", lambda a: [a.pk]),
    ("admin:articles_article_history", lambda a: [a.pk]),
    ("admin:articles_article_delete", lambda a: [a.pk]),
    ("articles:preview", lambda a: [a.pk]),
    # one revision's page (with its restore button)
    ("admin:articles_article_simple_history", lambda a: [a.pk, a.history.latest().history_id]),
]

# Listings where someone else's article could leak through filters, search or ordering.
LIST_URLS = [
    ("admin:articles_article_changelist", {}),
    ("admin:articles_article_changelist", {"status__exact": "draft"}),
    ("admin:articles_article_changelist", {"status__exact": "review"}),
    ("admin:articles_article_changelist", {"q": "机密草"}),
    ("admin:articles_article_changelist", {"created_by__id__exact": "{other}"}),
    ("admin:articles_article_changelist", {"id__exact": "{pk}"}),
    ("admin:articles_article_changelist", {"pk": "{pk}"}),
    ("admin:articles_article_changelist", {"o": "-1"}),
    ("admin:articles_article_changelist", {"_popup": "1", "_to_field": "id"}),
    ("admin:autocomplete", {"app_label": "articles", "model_name": "articlecategory", "field_name": "category",
                            "term": "机"}),
    ("admin:autocomplete", {"app_label": "articles", "model_name": "article", "field_name": "author", "term": ""}),
]


@pytest.fixture
def others_work():
    """Work of another Author in every unpublished state, and a draft of the writer's own:
    (writer, other, theirs by state, mine)."""
    writer, other = staff("writer", "Authors"), staff("other", "Authors")
    staff("desk", "Editors")
    category = Category.objects.create(name="机密栏目")
    theirs = {
        "draft": Article.objects.create(title=f"{SECRET}一", body="<p>x</p>", created_by=other),
        "review": Article.objects.create(title=f"{SECRET}二", body="<p>x</p>", created_by=other, status="review"),
        "scheduled": Article.objects.create(title=f"{SECRET}三", body="<p>x</p>", created_by=other,
                                            status="published",
                                            published_at=timezone.now() + dt.timedelta(days=3)),
    }
    for article in theirs.values():
        article.categories.add(category)
    mine = Article.objects.create(title="我的草稿", body="<p>x</p>", created_by=writer)
    return writer, other, theirs, mine


def fill(params: dict, article: Article, other: User) -> dict:
    return {k: v.format(pk=article.pk, other=other.pk) for k, v in params.items()}


def assert_hidden(response, what) -> None:
    assert response.status_code in (200, 302, 403, 404, 405), (what, response.status_code)
    assert SECRET not in response.content.decode(), what


# --- the public ---------------------------------------------------------------------


def admin_routes(resolver: URLResolver = None, prefix: str = "") -> list[str]:
    """Every admin URL pattern, as a path with 1 in place of each parameter."""
    resolver = resolver or get_resolver()
    paths = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            paths += admin_routes(entry, prefix + pattern)
        elif isinstance(entry, URLPattern) and (prefix + pattern).startswith("admin/"):
            path = prefix + pattern
            for token in ("<path:object_id>", "<path:content_type_id>", "<int:pk>", "(?P<url>.*)"):
                path = path.replace(token, "1")
            paths.append("/" + path.replace("\\Z", ""))
    return paths


def test_the_public_reaches_no_admin_page_by_any_url(client, others_work):
    routes = admin_routes()
    assert len(routes) > 20
    for path in routes:
        if path.rstrip("/").endswith(("admin/login", "admin/logout", "admin/jsi18n")):
            continue
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code in (302, 403, 404, 405), (path, response.status_code)
            if response.status_code == 302:
                assert "/admin/login/" in response["Location"], path
            assert SECRET not in response.content.decode(), path


def test_the_public_never_sees_drafts_review_or_scheduled(client, others_work):
    _, _, theirs, _ = others_work
    for article in theirs.values():
        for url in (article.get_absolute_url(), reverse("articles:preview", args=[article.pk])):
            response = client.get(url)
            assert response.status_code in (302, 404), url
            if response.status_code == 302:
                assert "/admin/login/" in response["Location"]
    for url in ("/", "/category/", "/category/机密栏目/", "/archive/", "/search/?q=机密", "/feed/", "/feed/atom/",
                "/feed/category/机密栏目/", "/sitemap.xml", "/sitemap-news.xml"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert SECRET not in response.content.decode(), url
    sitemap_sections = [s for s in ("/sitemap-categories.xml", f"/sitemap-{timezone.now().year}.xml")]
    for url in sitemap_sections:
        assert SECRET not in client.get(url).content.decode()


# --- Authors ------------------------------------------------------------------------


@pytest.mark.parametrize("name, args", OBJECT_URLS, ids=[n for n, _ in OBJECT_URLS])
@pytest.mark.parametrize("state", ["draft", "review", "scheduled"])
def test_an_author_cannot_open_colleagues_articles(client, others_work, name, args, state):
    writer, _, theirs, _ = others_work
    client.force_login(writer)
    article = theirs[state]
    url = reverse(name, args=args(article))
    assert_hidden(client.get(url), url)
    before = Article.objects.filter(pk=article.pk).values().get()
    assert_hidden(client.post(url, {"post": "yes", "title": "改掉", "status": "published"}), f"POST {url}")
    assert Article.objects.filter(pk=article.pk).values().get() == before


@pytest.mark.parametrize("name, params", LIST_URLS, ids=[f"{n}{sorted(p)}" for n, p in LIST_URLS])
def test_an_author_finds_no_colleagues_articles_in_lists_filters_or_autocomplete(client, others_work, name, params):
    writer, other, theirs, _ = others_work
    client.force_login(writer)
    response = client.get(reverse(name), fill(params, theirs["draft"], other))
    assert_hidden(response, (name, params))


def test_an_author_cannot_reach_objects_by_guessing_ids(client, others_work):
    writer, _, theirs, mine = others_work
    client.force_login(writer)
    # Every id around the scenario's articles, and the lowest ids a guesser tries first.
    # Not 1..top: on PostgreSQL, sequences are not rewound between tests, so ids grow
    # with the suite and walking from 1 took over five minutes.
    ids = [a.pk for a in (*theirs.values(), mine)]
    guesses = set(range(max(1, min(ids) - 5), max(ids) + 5)) | {1, 2, 3}
    for pk in sorted(guesses - {mine.pk}):
        for name in ("admin:articles_article_change", "admin:articles_article_history",
                     "admin:articles_article_delete", "articles:preview"):
            assert_hidden(client.get(reverse(name, args=[pk])), (name, pk))
        assert_hidden(client.get(f"/admin/articles/article/{pk}/"), pk)
    ctype = __import__("django.contrib.contenttypes.models", fromlist=["ContentType"]).ContentType
    article_type = ctype.objects.get_for_model(Article)
    for article in theirs.values():
        response = client.get(reverse("admin:view_on_site", args=[article_type.pk, article.pk]))
        if response.status_code == 302:
            assert_hidden(client.get(response["Location"]), "view on site → preview")


def test_an_author_cannot_publish_by_any_route(client, others_work):
    writer, _, theirs, mine = others_work
    client.force_login(writer)
    changelist = reverse("admin:articles_article_changelist")
    ids = [mine.pk, *(a.pk for a in theirs.values())]
    for action in ("publish", "unpublish", "move_to_category"):
        client.post(changelist, {"action": action, "_selected_action": ids, "apply": "1",
                                 "category": str(Category.objects.first().pk)})
    # Deleting their own drafts is allowed; deleting colleagues' work is not.
    client.post(changelist, {"action": "delete_selected", "_selected_action": ids[1:], "post": "yes"})
    assert Article.objects.filter(pk__in=ids[1:]).count() == 3
    mine.refresh_from_db()
    assert mine.status == "draft"
    for state, article in theirs.items():
        article.refresh_from_db()
        assert article.status == {"draft": "draft", "review": "review", "scheduled": "published"}[state]
    response = client.post(reverse("admin:articles_article_add"), add_form("偷偷发布", status="published"))
    assert response.status_code == 200 and not Article.objects.filter(title="偷偷发布").exists()
    # Bulk edit from the changelist (list_editable) is not open to Authors either.
    client.post(changelist, {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(mine.pk),
                             "form-0-status": "published", "_save": "Save"})
    mine.refresh_from_db()
    assert mine.status == "draft"


def test_an_author_cannot_reach_the_newsroom_settings(client, others_work):
    writer, *_ = others_work
    client.force_login(writer)
    for name in ("admin:articles_category_add", "admin:taggit_tag_add", "admin:auth_user_changelist",
                 "admin:auth_group_changelist", "admin:axes_accessattempt_changelist",
                 "admin:axes_accesslog_changelist", "admin:articles_importrun_changelist",
                 "admin:articles_importrun_upload"):
        assert client.get(reverse(name)).status_code == 403, name
    response = client.post(reverse("admin:articles_category_add"), {"name": "新栏目"})
    assert response.status_code == 403 and not Category.objects.filter(name="新栏目").exists()
    author = Author.objects.create(name="某记者")
    assert client.post(reverse("admin:articles_author_delete", args=[author.pk]), {"post": "yes"}).status_code == 403
    assert Author.objects.filter(pk=author.pk).exists()


def test_an_inactive_or_non_staff_user_gets_nothing(others_work):
    _, other, theirs, _ = others_work
    for change in ({"is_active": False}, {"is_staff": False}):
        User.objects.filter(pk=other.pk).update(**change)
        client = Client()
        client.force_login(User.objects.get(pk=other.pk))
        for article in theirs.values():
            response = client.get(reverse("admin:articles_article_change", args=[article.pk]))
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
            assert client.get(reverse("articles:preview", args=[article.pk])).status_code in (302, 404)
        User.objects.filter(pk=other.pk).update(is_active=True, is_staff=True)
