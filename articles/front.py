"""The newsroom's front page: the 要闻 block (headline slots), the 快讯 wire, channel sections, the channel bar.

Everything here starts from `Article.objects.published()` (or its rule across a
link, `published_links`) and names what it shows (articles.content_keys):

* the 要闻 block: the live headline slots (`HeadlineSlot.objects.live()`), each
  empty position filled with the newest article of the lead channels
  (settings.NEWSPORTAL_LEAD_CHANNELS; by default every channel but the wire).
  Shown under `home` (content_keys.SLOT_KEYS): a slot's write and its start or
  end time passing change it, and every published article's change does already;
* the wire: the articles of the wire channels (settings.NEWSPORTAL_WIRE_CHANNELS,
  by default the categories named 电报 or 快讯), each with its 【headline】 as its
  title when its excerpt opens with one; shown under `wire` and the channels' keys;
* the channel sections: the top-level categories with a front page position
  (`Category.front_order`), else the first channels of the bar but the wire's,
  each with its newest stories but the wire's — one query for all of them (a UNION ALL of one
  indexed LIMIT query a channel), not one a section;
* the channel bar in every page's header (`channel_bar`): the top-level categories
  that have published articles, under `nav` (drawn from `public_categories`, which the filter
  form's category picker shares, read with the wire's and lead channels' ids: one query for all).

The home page costs a bounded number of queries whatever the number of sections:
the slots, the fill, the wire, the sections' ids, then one `load_in_order` for all.
The wire's and the sections' ids are kept while their channels' keys are unchanged
(`remembered`), so a page rendered again after a slot's change or time reads only the
slots and the fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, router
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from articles.content_keys import SLOT_KEYS, show, show_names
from articles.content_version import remembered
from articles.models import Article, ArticleCategory, Category, HeadlineSlot, published_links
from articles.querysets import load_in_order
from articles.sanitize import split_leading_headline

# The 要闻 block: the lead and this many secondary headlines (HeadlineSlot positions 1-4).
SECONDARY_HEADLINES = 4
WIRE_ITEMS = 8  # on the home page; /wire/ pages by the site's page size
SECTION_STORIES = 4
DEFAULT_SECTIONS = 6  # when no category has a front page position
WIRE_KEY = "wire"  # the wire's membership: which categories are wire channels (their names)


@dataclass(frozen=True)
class Channel:
    """A top-level category as the channel bar and the sections show it (kept in the cache, so plain)."""

    pk: int
    name: str
    url: str
    front_order: int | None


@dataclass
class WireItem:
    article: Article
    headline: str  # the 【headline】 the item opens with, else its title
    text: str  # the excerpt after that headline


@dataclass
class Section:
    channel: Channel
    articles: list[Article] = field(default_factory=list)


@dataclass
class FrontPage:
    lead: Article | None
    headlines: list[Article]
    wire: list[WireItem]
    sections: list[Section]


# --- channels -----------------------------------------------------------------------


def _named(entries: list[str], categories: list[tuple[int, str, str]]) -> list[int]:
    """The ids of the (pk, path, name) `categories` these entries name: a path (with "/") or a name at any level."""
    paths = {entry.strip("/") for entry in entries if "/" in entry}
    names = {entry for entry in entries if "/" not in entry}
    return sorted(pk for pk, path, name in categories if path in paths or name in names)


def wire_channel_ids() -> list[int]:
    """The wire channels' ids (settings.NEWSPORTAL_WIRE_CHANNELS), kept with the categories (`_categories`)."""
    return _categories().wire


def lead_channel_ids() -> list[int]:
    """The lead channels' ids (settings.NEWSPORTAL_LEAD_CHANNELS); [] for every channel but the wire."""
    return _categories().lead


def _in_channels(ids: list[int]) -> Exists:
    return Exists(ArticleCategory.objects.filter(article=OuterRef("pk"), category__in=ids))


@dataclass(frozen=True)
class PublicCategory:
    """A category with a published article (kept in the cache, so plain)."""

    pk: int
    path: str
    name: str
    parent_id: int | None
    front_order: int | None


@dataclass(frozen=True)
class Categories:
    """The public categories and the configured channels' ids (kept in the cache, so plain)."""

    public: list[PublicCategory]
    wire: list[int]
    lead: list[int]


def _categories() -> Categories:
    """The categories the header, the filter form and the front page need, in one query.

    Every category with whether it has a published article: the public ones are
    the channel bar's and the category picker's; the wire's and the lead channels'
    ids (by the settings' names) count unpublished ones too, so a first article in
    one is shown under its channel's key. Kept while no `categories`, `nav` or `wire` write is recorded.
    """
    def compute() -> Categories:
        public = Exists(Category.objects.public().filter(pk=OuterRef("pk")))
        rows = list(Category.objects.annotate(is_public=public).order_by("path")
                    .values_list("pk", "path", "name", "parent_id", "front_order", "is_public"))
        named = [row[:3] for row in rows]
        return Categories([PublicCategory(*row[:5]) for row in rows if row[5]],
                          _named(settings.NEWSPORTAL_WIRE_CHANNELS, named),
                          _named(settings.NEWSPORTAL_LEAD_CHANNELS, named))

    return remembered("front:categories", compute, keys=["nav", WIRE_KEY, "categories"])


def public_categories() -> list[PublicCategory]:
    """Every category with a published article, by path: the channel bar's and the filter form's picker's.

    One query for both and for the wire's and lead channels' ids (`_categories`: a listing
    draws the bar and the picker, the home page the wire too; its empty-cache count stays
    within its bound).
    """
    return _categories().public


def channel_bar() -> list[Channel]:
    """The top-level categories with published articles: by front page position, then by path."""
    show("nav")

    def compute() -> list[Channel]:
        top = [c for c in public_categories() if c.parent_id is None]
        # A stable sort: within a position (or none), the database's order of paths.
        top.sort(key=lambda c: (c.front_order is None, c.front_order or 0))
        return [Channel(c.pk, c.name, reverse("articles:category", kwargs={"path": c.path}), c.front_order)
                for c in top]

    return remembered("front:channel-bar", compute, keys=["nav", "categories"])


def front_channels() -> list[Channel]:
    """The channels with a section on the home page: those given a position, else the bar's first but the wire's."""
    bar = channel_bar()
    chosen = [channel for channel in bar if channel.front_order is not None]
    if chosen:
        return chosen
    wire = set(wire_channel_ids())
    return [channel for channel in bar if channel.pk not in wire][:DEFAULT_SECTIONS]


# --- the wire -----------------------------------------------------------------------


def wire_articles() -> QuerySet[Article]:
    """The published articles of the wire channels, newest first."""
    return Article.objects.published().filter(_in_channels(wire_channel_ids())).order_by("-published_at", "-id")


def show_wire() -> None:
    """The keys of a page or feed listing the wire."""
    show(WIRE_KEY, *(f"channel:{pk}" for pk in wire_channel_ids()))


def wire_item(article: Article) -> WireItem:
    headline, text = split_leading_headline(article.excerpt)
    return WireItem(article, headline or article.title, text if headline else article.excerpt)


# --- the 要闻 block and the sections ------------------------------------------------


def live_slots() -> dict[int, int]:
    """Position -> article id of the placements showing now (of several at a position, the latest started)."""
    chosen: dict[int, int] = {}
    rows = (HeadlineSlot.objects.live().filter(position__lte=SECONDARY_HEADLINES)
            .order_by("position", "-starts_at", "-id").values_list("position", "article_id"))
    for position, article_id in rows:
        if position not in chosen and article_id not in chosen.values():
            chosen[position] = article_id
    return chosen


def lead_fill(count: int, exclude: list[int]) -> list[int]:
    """The newest articles of the lead channels (not `exclude`), for the empty slots."""
    if count <= 0:
        return []
    articles = Article.objects.published()
    lead = lead_channel_ids()
    if lead:
        articles = articles.filter(_in_channels(lead))
    elif wire_channel_ids():
        articles = articles.exclude(_in_channels(wire_channel_ids()))
    return list(articles.exclude(pk__in=exclude).order_by("-published_at", "-id").values_list("pk", flat=True)[:count])


def newest_by_channel(channel_ids: list[int], count: int, exclude_channels: list[int] = ()) -> dict[int, list[int]]:
    """Each channel's newest published article ids, in one query.

    A UNION ALL of one LIMIT query a channel, each read from the (category,
    published_at, article) index: a window function over the channels' links
    would read all of them (most of the archive for the big channels). Articles
    also in `exclude_channels` (the wire's items, which have a column of their own) are left out.
    """
    if not channel_ids:
        return {}
    alias = router.db_for_read(ArticleCategory)
    connection = connections[alias]
    parts, params = [], []
    for n, channel_id in enumerate(channel_ids):
        links = published_links(ArticleCategory, "article").using(alias).filter(category=channel_id)
        if exclude_channels:
            links = links.exclude(Exists(ArticleCategory.objects.filter(
                article=OuterRef("article_id"), category__in=exclude_channels)))
        links = links.order_by("-published_at", "-article_id").values_list("category_id", "article_id")[:count]
        sql, part_params = links.query.get_compiler(using=alias).as_sql()
        parts.append(f"SELECT * FROM ({sql}) AS part{n}")
        params.extend(part_params)
    found: dict[int, list[int]] = {pk: [] for pk in channel_ids}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for category_id, article_id in cursor.fetchall():
            found[category_id].append(article_id)
    return found


def front_page(also: list[int] = ()) -> tuple[FrontPage, dict[int, Article]]:
    """The home page's blocks, with their keys shown; and the articles loaded, `also` (the list's) among them.

    Loading the blocks' articles and the caller's in one `load_in_order` saves the
    home page a listing's queries.
    """
    show(*SLOT_KEYS)
    show_wire()
    placed = live_slots()
    positions = range(1 + SECONDARY_HEADLINES)
    fill = iter(lead_fill(sum(1 for p in positions if p not in placed), list(placed.values())))
    slot_ids = [placed.get(position) or next(fill, None) for position in positions]
    # The wire's and the sections' newest ids depend on their channels' articles alone: kept
    # while those channels' keys are unchanged (a scheduled publication changes them too).
    wire_keys = [WIRE_KEY, *(f"channel:{pk}" for pk in wire_channel_ids())]
    wire_ids = remembered("front:wire", lambda: list(wire_articles().values_list("pk", flat=True)[:WIRE_ITEMS]),
                          keys=wire_keys)
    channels = front_channels()
    channel_ids = [c.pk for c in channels]
    # A few more than shown: the stories in the 要闻 block are left out of the sections.
    section_ids = remembered(f"front:sections:{','.join(map(str, channel_ids))}", lambda: newest_by_channel(
        channel_ids, SECTION_STORIES + len(slot_ids), wire_channel_ids()),
        keys=[*wire_keys, *(f"channel:{pk}" for pk in channel_ids)])
    ids = [pk for pk in slot_ids if pk] + wire_ids + [pk for found in section_ids.values() for pk in found]
    articles = {a.pk: a for a in load_in_order(list(dict.fromkeys([*ids, *also])), Article.objects.published())}
    show_names(articles.values())  # the blocks print their outlets and channels
    headlines = [articles[pk] for pk in slot_ids if pk in articles]
    lead = headlines.pop(0) if headlines else None
    shown = {a.pk for a in headlines} | ({lead.pk} if lead else set())
    sections = [Section(channel, [articles[pk] for pk in section_ids[channel.pk]
                                  if pk in articles and pk not in shown][:SECTION_STORIES])
                for channel in channels]
    wire = [wire_item(articles[pk]) for pk in wire_ids if pk in articles]
    return FrontPage(lead, headlines, wire, [section for section in sections if section.articles]), articles
