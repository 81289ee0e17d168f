"""RSS and Atom feeds (contrib.syndication): site-wide, per category, per tag."""

from __future__ import annotations

import copy
import datetime as dt
import re

from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import escape
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from taggit.models import Tag

from articles.content_keys import show, show_names
from articles.front import show_wire, wire_articles, wire_item
from articles.models import Article, Author, Category, public_tags
from articles.querysets import credited_to, listing, with_credit_kinds

FEED_SIZE = 20

# Characters XML 1.0 cannot carry at all: C0 controls other than tab and line
# breaks, lone surrogates and the two non-characters. A title or name holding
# one (a pasted or imported control character) must not make the feed a 500.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value):
    """`value` (a string, or a list or dict of them) without the characters XML cannot hold."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, (list, tuple)):
        return type(value)(xml_text(item) for item in value)
    if isinstance(value, dict):
        return {key: xml_text(item) for key, item in value.items()}
    return value


def article_tag_uri(request: HttpRequest, article: Article) -> str:
    """The article's id in feeds: an RFC 4151 tag URI, tag:HOST,YYYY-MM-DD:/articles/PK.

    Atom ids must be IRIs that never change, and feed readers use RSS guids the
    same way: by the primary key and the day the article was created (UTC),
    never by its title slug or publication time, which editors may change.
    HOST is the site's domain without a port (the tag grammar has none).
    """
    domain, _port = split_domain_port(get_current_site(request).domain)
    created = article.created_at.astimezone(dt.timezone.utc)
    return f"tag:{domain},{created:%Y-%m-%d}:/articles/{article.pk}"


class FullContentAtom1Feed(Atom1Feed):
    """Atom with the whole sanitised body in <content>, not only a summary."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


class LatestArticlesFeed(Feed):
    feed_type = Rss201rev2Feed
    description_template = None

    def __call__(self, request, *args, **kwargs):
        # urls.py holds one instance for every request; the entry ids need the
        # request's site, so each request works on a copy that holds it.
        feed = copy.copy(self)
        feed.request = request
        return Feed.__call__(feed, request, *args, **kwargs)

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        feed.feed = xml_text(feed.feed)
        feed.items = [xml_text(item) for item in feed.items]
        return feed

    def title(self, obj=None) -> str:
        return settings.NEWSPORTAL_SITE_NAME

    def description(self, obj=None) -> str:
        return settings.NEWSPORTAL_SITE_DESCRIPTION

    subtitle = description

    def link(self, obj=None) -> str:
        return reverse("articles:home")

    def author_name(self, obj=None) -> str:
        # The feed's author, which Atom requires for entries that name none.
        return settings.NEWSPORTAL_SITE_NAME

    def items(self, obj=None):
        show("feed")
        return listing(Article.objects.published())[:FEED_SIZE]

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.body  # sanitised on save

    def item_pubdate(self, item: Article):
        return item.published_at

    def item_updateddate(self, item: Article):
        return item.modified_at

    def item_author_name(self, item: Article) -> str | None:
        show_names([item])  # its outlet and categories, by name
        return item.author.name if item.author else None

    def item_categories(self, item: Article) -> list[str]:
        trail = item.category_trail  # from the prefetched links: no query per item
        return [" › ".join(c.name for c in trail)] if trail else []

    def item_guid(self, item: Article) -> str:
        return article_tag_uri(self.request, item)

    item_guid_is_permalink = False

    def item_extra_kwargs(self, item: Article) -> dict:
        return {"content": item.body}


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = FullContentAtom1Feed

    def item_description(self, item: Article) -> str:
        # Atom's <summary> is declared type="html": the plain-text excerpt is
        # escaped, or a title-like "<script>" in the text would become markup
        # in feed readers.
        return escape(item.excerpt)


class WireFeed(LatestArticlesFeed):
    """快讯: the wire's newest items (articles.front), titled by their 【headline】."""

    def title(self, obj=None) -> str:
        return f"快讯 - {settings.NEWSPORTAL_SITE_NAME}"

    def link(self, obj=None) -> str:
        return reverse("articles:wire")

    def items(self, obj=None):
        show_wire()
        return listing(wire_articles())[:FEED_SIZE]

    def item_title(self, item: Article) -> str:
        return wire_item(item).headline


class WireAtomFeed(WireFeed, LatestArticlesAtomFeed):
    pass


class CategoryFeed(LatestArticlesFeed):
    def get_object(self, request, path: str) -> Category:
        return get_object_or_404(Category.objects.public(), path=path)

    def title(self, obj: Category) -> str:
        return f"{obj.path_display} - {settings.NEWSPORTAL_SITE_NAME}"

    def link(self, obj: Category) -> str:
        return obj.get_absolute_url()

    def items(self, obj: Category):
        show(f"feed:channel:{obj.pk}", f"c:{obj.pk}")
        return listing(Article.objects.published().filter(categories=obj))[:FEED_SIZE]


class CategoryAtomFeed(CategoryFeed, LatestArticlesAtomFeed):
    pass


class TagFeed(LatestArticlesFeed):
    def get_object(self, request, slug: str) -> Tag:
        return get_object_or_404(public_tags(), slug=slug)

    def title(self, obj: Tag) -> str:
        return f"{obj.name} - {settings.NEWSPORTAL_SITE_NAME}"

    def link(self, obj: Tag) -> str:
        return reverse("articles:tag", kwargs={"slug": obj.slug})

    def items(self, obj: Tag):
        show(f"feed:tag:{obj.pk}", f"t:{obj.pk}")
        return listing(Article.objects.published().filter(tags=obj))[:FEED_SIZE]


class TagAtomFeed(TagFeed, LatestArticlesAtomFeed):
    pass


class AuthorFeed(LatestArticlesFeed):
    """An author's articles: the outlet's, and a reporter's bylines."""

    def get_object(self, request, slug: str) -> Author:
        return get_object_or_404(with_credit_kinds(Author.objects.public()), slug=slug)

    def title(self, obj: Author) -> str:
        return f"{obj.name} - {settings.NEWSPORTAL_SITE_NAME}"

    def link(self, obj: Author) -> str:
        return obj.get_absolute_url()

    def items(self, obj: Author):
        show(f"feed:author:{obj.pk}", f"p:{obj.pk}")
        return listing(Article.objects.published().filter(credited_to(obj)))[:FEED_SIZE]


class AuthorAtomFeed(AuthorFeed, LatestArticlesAtomFeed):
    pass
