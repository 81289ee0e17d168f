"""Names only unpublished work carries stay private (issue #14, item 6).

A category (with its subtree), tag or author that no published article
carries has no page, feed, sitemap entry, API row or filter value: every
surface answers as it does for a name that does not exist, so none of them
can serve as an existence oracle for an embargoed story. The moment the
article is published, the name appears everywhere.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, unquote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, ArticleByline, Author
from tests.factories import chain, publish

pytestmark = pytest.mark.django_db

API = "/api/v1"
STATES = ["draft", "review", "scheduled"]


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


def unpublished(state: str, label: str) -> Article:
    """An article in `state` carrying a category chain, a tag, an author and a reporter of its own."""
    status, when = {
        "draft": (Article.Status.DRAFT, timezone.now() - dt.timedelta(days=1)),
        "review": (Article.Status.REVIEW, timezone.now() - dt.timedelta(days=1)),
        "scheduled": (Article.Status.PUBLISHED, timezone.now() + dt.timedelta(days=1)),
    }[state]
    article = publish(f"秘闻{label}", when, status=status, categories=[chain(f"内部{label}", f"禁发{label}")],
                      tags=[f"机密{label}"], author=f"神秘社{label}")
    ArticleByline.objects.create(article=article, author=Author.objects.create(name=f"神秘记者{label}"))
    Article.objects.filter(pk=article.pk).update(bylines_edited=True)  # a later save keeps the byline
    return article


@pytest.fixture
def one_article_per_state():
    """One published article, and one of each unpublished state with names of its own."""
    publish("公开报道", categories=[chain("公开", "快讯")], tags=["公开标签"], author="公开社")
    return {state: unpublished(state, state) for state in STATES}


def names(label: str) -> dict[str, str]:
    return {"category": f"内部{label}", "leaf": f"内部{label}/禁发{label}", "tag": f"机密{label}",
            "author": f"神秘社{label}", "reporter": f"神秘记者{label}"}


def author_slug(name: str) -> str:
    """The author's slug, or the slug one of that name would get."""
    author = Author.objects.filter(name=name).first()
    return author.slug if author else name


def pages_of(label: str) -> list[str]:
    """Every public URL that belongs to one of the article's names."""
    n = names(label)
    urls = []
    for path in (n["category"], n["leaf"]):
        urls += [reverse(name, kwargs={"path": path}) for name in
                 ("articles:category", "articles:category-feed", "articles:category-feed-atom")]
    tag_slug = n["tag"]
    urls += [reverse(name, kwargs={"slug": tag_slug}) for name in
             ("articles:tag", "articles:tag-feed", "articles:tag-feed-atom")]
    for who in (n["author"], n["reporter"]):
        urls += [reverse(name, kwargs={"slug": author_slug(who)}) for name in
                 ("articles:author", "articles:author-feed", "articles:author-feed-atom")]
    return urls


def listing_urls() -> list[str]:
    return ["/category/", "/sitemap-categories.xml", f"{API}/categories/", f"{API}/tags/?page_size=100",
            f"{API}/authors/?page_size=100"]


def filter_answers(client, label: str) -> dict[str, tuple[int, bytes]]:
    """What the site's and the API's filters answer for each of the article's names."""
    n = names(label)
    slug = {"category": n["leaf"], "tag": n["tag"], "author": author_slug(n["reporter"])}
    answers = {}
    for param, value in slug.items():
        for base in ("/", f"{API}/articles/"):
            response = client.get(base, {param: value})
            answers[f"{base}?{param}"] = (response.status_code, response.content.replace(quote(value).encode(), b"")
                                          .replace(value.encode(), b""))
    return answers


@pytest.mark.parametrize("state", STATES)
def test_unpublished_names_have_no_public_page_feed_sitemap_entry_or_api_row(client, one_article_per_state, state):
    # A name that never existed, for comparison: the same shapes, label "无此".
    for own, never in zip(pages_of(state), pages_of("无此")):
        response, missing = client.get(own), client.get(never)
        assert response.status_code == missing.status_code == 404, own
        assert response.content == missing.content.replace(quote("无此").encode(), quote(state).encode()), own
    for url in listing_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        text = unquote(response.content.decode())
        for name in names(state).values():
            assert name not in text, (url, name)
    assert filter_answers(client, state) == filter_answers(client, "公开不存在")


@pytest.mark.parametrize("state", STATES)
def test_the_names_appear_once_the_article_is_published(client, one_article_per_state, state):
    article = one_article_per_state[state]
    Article.objects.filter(pk=article.pk).update(status=Article.Status.PUBLISHED, bylines_edited=True,
                                                 published_at=timezone.now() - dt.timedelta(minutes=1))
    article.refresh_from_db()
    article.save()  # stamps the links' copies of the time and moves the content version (bylines kept)
    for url in pages_of(state):
        assert client.get(url).status_code == 200, url
    n = names(state)
    expected = {"/category/": [f"禁发{state}"], "/sitemap-categories.xml": [n["category"], n["leaf"]],
                f"{API}/categories/": [n["category"], n["leaf"]], f"{API}/tags/?page_size=100": [n["tag"]],
                f"{API}/authors/?page_size=100": [n["author"], n["reporter"]]}
    assert sorted(expected) == sorted(listing_urls())
    for url, shown in expected.items():
        text = unquote(client.get(url).content.decode())
        assert all(name in text for name in shown), url
    for answer, (status, _) in filter_answers(client, state).items():
        assert status == 200, answer


def test_a_published_article_makes_its_whole_chain_public_but_not_its_siblings(client, one_article_per_state):
    quiet = chain("公开", "无稿栏目")  # a sibling with no article at all
    assert client.get(reverse("articles:category", kwargs={"path": "公开"})).status_code == 200
    assert client.get(reverse("articles:category", kwargs={"path": "公开/快讯"})).status_code == 200
    assert client.get(reverse("articles:category", kwargs={"path": quiet.path})).status_code == 404
    assert "无稿栏目" not in client.get(reverse("articles:category", kwargs={"path": "公开"})).content.decode()
