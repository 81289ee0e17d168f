"""Public pages. Every query here starts from `Article.objects.published()`."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, JsonResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.generic import DetailView, ListView, TemplateView
from django.views.generic.dates import DayArchiveView, MonthArchiveView, YearArchiveView
from taggit.models import Tag

from articles import archive, hot
from articles.content_keys import archive_keys, show, show_names
from articles.filters import ArticleFilter, category_choices, name_choices
from articles.front import front_page, show_wire, wire_articles, wire_item
from articles.models import (
    Article, ArticleCategory, ArticleRedirect, Author, Category, TaggedArticle, public_tags, published_links,
)
from articles.pagination import AFTER, BEFORE, PAGE, Keys, Redirect, paginate
from articles.permissions import can_view
from articles.querysets import credited_to, load_in_order, with_counts, with_credit_kinds
from articles.related import neighbours, related_articles, tags_and_keywords
from articles.sanitize import html_to_text

PAGE_SIZE = 20
# Chinese readers take in about 400 characters a minute.
READING_CHARS_PER_MINUTE = 400


def older_page_period(newest: dt.datetime) -> str:
    """What an older page of a listing holds, by its newest article's time (Beijing): "2022年6月11日 15:30及更早"."""
    when = timezone.localtime(newest)
    return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}及更早"


class SeoMixin:
    """Puts `seo` (title, description, canonical URL, image) in the context."""

    seo_title: str = ""
    og_type = "website"

    def get_seo(self) -> dict:
        return {"title": self.seo_title}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        seo = {"og_type": self.og_type, **self.get_seo()}
        page = context.get("page_obj")
        path = self.request.path
        if page is not None and page.number and page.number > 1:
            path += f"?page={page.number}"
            seo["title"] = f"{seo.get('title') or ''} 第{page.number}页".strip()
        elif page is not None and page.has_previous() and context.get("article_list"):
            # An older page of a listing by key: its own address, and a title and heading that say where it starts.
            path = self.request.get_full_path()
            period = older_page_period(context["article_list"][0].published_at)
            context["page_period"] = period
            seo["title"] = f"{seo['title']} · {period}" if seo.get("title") else f"{period}的文章"
        seo.setdefault("canonical", self.request.build_absolute_uri(path))
        context["seo"] = seo
        return context


class KeysetPaginationMixin:
    """Pages listings by key (articles.pagination): no COUNT, no OFFSET."""

    paginate_by = PAGE_SIZE
    # The query parameters the view reads; public_page drops the rest (articles.content_version).
    query_params: tuple[str, ...] = (BEFORE, AFTER, PAGE)

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Redirect as moved:
            query = moved.query.urlencode()
            return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))

    def paginate_queryset(self, queryset, page_size):
        if isinstance(queryset, QuerySet) and queryset.model is Article:
            queryset = Keys(queryset)
        if not isinstance(queryset, Keys):
            return super().paginate_queryset(queryset, page_size)
        page = paginate(queryset, self.request.GET, page_size)
        page.object_list = load_in_order(page.ids)
        return (None, page, page.object_list, page.has_other_pages())


class ArticleListView(KeysetPaginationMixin, SeoMixin, ListView):
    """A filtered, paginated list of published articles."""

    template_name = "articles/article_list.html"
    context_object_name = "article_list"
    query_params = (*ArticleFilter.base_filters, *KeysetPaginationMixin.query_params)

    def base_queryset(self) -> QuerySet[Article]:
        return Article.objects.published()

    @cached_property
    def filterset(self) -> ArticleFilter:
        return ArticleFilter(self.request.GET, queryset=self.base_queryset())

    @cached_property
    def is_filtered(self) -> bool:
        return any(self.request.GET.get(name) for name in ArticleFilter.base_filters)

    @property
    def filters_valid(self) -> bool:
        return not self.is_filtered or self.filterset.is_valid()

    def filtered(self) -> QuerySet[Article]:
        """The listing's articles, filtered by the query's parameters.

        Unfiltered (nearly always) no filter form is built: its three choice fields'
        querysets cost ~2 ms a page to build. An invalid filter value (a malformed
        date) gives an empty list, not an error.
        """
        if not self.is_filtered:
            return self.base_queryset()
        return self.filterset.qs if self.filters_valid else Article.objects.none()

    def get_queryset(self):
        return Keys(self.filtered())

    # The listing's content key (articles.content_keys), if it is not named by the subclass.
    listing_key = ""

    def get_context_data(self, **kwargs):
        show(self.listing_key)
        if any(self.request.GET.get(name) for name in ("category", "tag", "author")):
            show("names")  # a category, tag or author chosen by its path or slug: which one may change
        # The category picker's list: the template calls it only where the filter form is drawn. (The tag
        # and author pickers are filled by static/js/filters.js from filter_choices.)
        context = super().get_context_data(filters_offered=True, filterset=self.filterset if self.is_filtered else None,
                                           category_choices=category_choices, **kwargs)
        self.show_cards(context["article_list"])
        return context

    def show_cards(self, articles) -> None:
        """The cards print their articles' trails and outlets (a view listing ids loads them, then names them)."""
        show_names(articles)


class HomeView(ArticleListView):
    template_name = "articles/home.html"
    listing_key = "home"

    @cached_property
    def is_front(self) -> bool:
        """The front page's blocks are on its first page; older pages (?before=) and filtered lists are lists alone."""
        return not self.is_filtered and not any(self.request.GET.get(name) for name in (BEFORE, AFTER, PAGE))

    def paginate_queryset(self, queryset, page_size):
        if not self.is_front:
            return super().paginate_queryset(queryset, page_size)
        # The list's articles are loaded with the blocks' (articles.front.front_page): one load for all.
        page = paginate(queryset, self.request.GET, page_size)
        self.front, loaded = front_page(page.ids)
        page.object_list = [loaded[pk] for pk in page.ids if pk in loaded]
        return (None, page, page.object_list, page.has_other_pages())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.is_front:
            context["front"] = self.front
            # The 热门 block (articles/_hot.html): shows the `hot` key, changed at most every few minutes.
            context["hot_articles"] = hot.hot_articles(hot.HOME_LIMIT)
        return context


class HotView(SeoMixin, TemplateView):
    """/hot/: the most-read published articles of the last NEWSPORTAL_HOT_HOURS (articles.hot)."""

    template_name = "articles/hot.html"
    seo_title = "热门文章"

    def get_seo(self):
        return {**super().get_seo(), "title": self.seo_title,
                "description": f"过去{settings.NEWSPORTAL_HOT_HOURS}小时读者最多的文章"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(hot_articles=hot.hot_articles(hot.PAGE_LIMIT),
                                         hot_hours=settings.NEWSPORTAL_HOT_HOURS, **kwargs)


@csrf_exempt  # a beacon carries no token and sets no cookie; it only adds one to a counter
@require_POST
def hit(request, pk: int) -> HttpResponse:
    """The reading beacon (static/js/hit.js): count a read of a published article (articles.hot).

    Always 204, counted or not (a bot, a draft, an unknown id, a repeat), so it tells a
    prober nothing; never cached, never a cookie.
    """
    hot.count_hit(request, pk)
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def filter_choices(request) -> JsonResponse:
    """The filter form's tag and author suggestions, as JSON: {"tags": [[slug, name], ...], "authors": [...]}.

    Fetched by static/js/filters.js when a reader opens the filter box, so no
    listing page embeds them; cached like any public page (public_page) under
    `tags` and `authors`, so a name whose last public article goes is gone at once.
    """
    return JsonResponse(name_choices(), json_dumps_params={"ensure_ascii": False})


class WireView(KeysetPaginationMixin, SeoMixin, ListView):
    """快讯: the wire channels' items, newest first, each with its time and 【headline】 (articles.front)."""

    template_name = "articles/wire.html"
    context_object_name = "article_list"
    seo_title = "快讯"

    def get_queryset(self):
        return Keys(wire_articles())

    def get_seo(self):
        return {"title": self.seo_title, "description": f"{settings.NEWSPORTAL_SITE_NAME}的滚动快讯：最新的财经电报与快讯"}

    def get_context_data(self, **kwargs):
        show_wire()
        context = super().get_context_data(**kwargs)
        context["wire_items"] = [wire_item(article) for article in context["article_list"]]
        return context


class CategoryIndexView(SeoMixin, TemplateView):
    template_name = "articles/category_index.html"
    seo_title = "全部栏目"

    def get_context_data(self, **kwargs):
        show("categories")  # every category and its count
        return super().get_context_data(categories=with_counts(Category.objects.public().order_by("path")), **kwargs)


class CategoryView(ArticleListView):
    template_name = "articles/category.html"

    @cached_property
    def category(self) -> Category:
        return get_object_or_404(Category.objects.public(), path=self.kwargs["path"])

    def base_queryset(self):
        # An article is linked to every node of its chains (models.link_ancestors),
        # so the category's own links cover its whole subtree: one indexed query.
        return super().base_queryset().filter(categories=self.category)

    def get_queryset(self):
        if self.is_filtered:
            return super().get_queryset()
        # Unfiltered (nearly always): the (category, published_at, article) index, read in order.
        return Keys(published_links(ArticleCategory, "article").filter(category=self.category),
                    "published_at", "article_id")

    def get_seo(self):
        return {"title": self.category.path_display,
                "description": f"{self.category.path_display}栏目的最新文章"}

    def get_context_data(self, **kwargs):
        children = with_counts(self.category.children.public().order_by("name"))
        crumbs = [{"name": c.name, "url": c.get_absolute_url()} for c in self.category.lineage]
        # Its children's counts change with its own listing (an article is linked to every ancestor).
        show(f"channel:{self.category.pk}", *(f"c:{c.pk}" for c in self.category.lineage),
             *(f"c:{child.pk}" for child in children))  # its subcategories' names
        return super().get_context_data(category=self.category, children=children, crumbs=crumbs,
                                        current_channel=self.category.lineage[0].pk,
                                        current_channel_page=self.category.parent_id is None, **kwargs)


class TagView(ArticleListView):
    template_name = "articles/tag.html"

    @cached_property
    def tag(self) -> Tag:
        return get_object_or_404(public_tags(), slug=self.kwargs["slug"])

    def base_queryset(self):
        return super().base_queryset().filter(tags=self.tag)

    def get_queryset(self):
        if self.is_filtered:
            return super().get_queryset()
        return Keys(published_links(TaggedArticle, "content_object").filter(tag=self.tag),
                    "published_at", "content_object_id")

    def get_seo(self):
        return {"title": f"标签：{self.tag.name}", "description": f"标签“{self.tag.name}”的相关文章"}

    def get_context_data(self, **kwargs):
        show(f"tag:{self.tag.pk}", f"t:{self.tag.pk}")
        return super().get_context_data(tag=self.tag, crumbs=[{"name": f"标签：{self.tag.name}"}], **kwargs)


class AuthorView(ArticleListView):
    template_name = "articles/author.html"

    @cached_property
    def author(self) -> Author:
        return get_object_or_404(with_credit_kinds(Author.objects.public()), slug=self.kwargs["slug"])

    def base_queryset(self):
        # The outlet's articles and the reporter's bylines alike.
        return super().base_queryset().filter(credited_to(self.author))

    def get_seo(self):
        return {"title": self.author.name, "description": f"{self.author.name}的文章"}

    def get_context_data(self, **kwargs):
        show(f"author:{self.author.pk}", f"p:{self.author.pk}")
        return super().get_context_data(author=self.author, crumbs=[{"name": self.author.name}], **kwargs)


# --- date archives --------------------------------------------------------------


class ArchiveIndexView(SeoMixin, TemplateView):
    template_name = "articles/archive_index.html"
    seo_title = "文章归档"

    def get_context_data(self, **kwargs):
        show("archive")  # every month and its count
        return super().get_context_data(years=archive.published_months(), **kwargs)


class DateArchiveMixin(KeysetPaginationMixin, SeoMixin):
    """Shared settings of the year, month and day archives.

    Django's date views filter with half-open ranges of local (Beijing) time,
    which use the published_at index; allow_empty=False makes an empty or
    impossible period a 404.
    """

    date_field = "published_at"
    allow_empty = False
    allow_future = False
    month_format = "%m"
    day_format = "%d"
    context_object_name = "article_list"

    def get_queryset(self):
        return Article.objects.published()

    def get_context_data(self, **kwargs):
        # Its own period, and which periods have articles (the previous/next links).
        year, month, day = (int(self.kwargs.get(part, 1)) for part in ("year", "month", "day"))
        parts = 1 + ("month" in self.kwargs) + ("day" in self.kwargs)
        show(archive_keys(dt.date(year, month, day))[parts - 1], "archive-periods")
        context = super().get_context_data(**kwargs)
        show_names(context["article_list"])  # the cards print their trails and outlets
        return context

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except OverflowError as exc:  # the period after 9999-12-31 does not exist
            raise Http404("No such period") from exc


class YearArchive(DateArchiveMixin, YearArchiveView):
    template_name = "articles/archive_year.html"
    make_object_list = True

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        # The months and their counts come from one GROUP BY over the indexed
        # publication date, not from queryset.dates(), which SQLite would
        # compute row by row in Python.
        year = int(self.get_year())
        months = archive.months_of_year(Article.objects.published(), year)
        if not months:
            raise Http404("No articles this year")
        self.month_counts = months
        return [dt.date(year, month, 1) for month, _ in months]

    def get_seo(self):
        return {"title": f"{self.get_year()}年文章归档"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(month_counts=self.month_counts, **kwargs)


class MonthArchive(DateArchiveMixin, MonthArchiveView):
    template_name = "articles/archive_month.html"

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        # The month's days from the indexed publication date (see YearArchive).
        first = dt.date(int(self.get_year()), int(self.get_month()), 1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        days = archive.day_counts(Article.objects.published().filter(
            published_date__gte=first, published_date__lt=following))
        if not days:
            raise Http404("No articles this month")
        return sorted(days)

    def get_seo(self):
        return {"title": f"{self.get_year()}年{int(self.get_month())}月文章归档"}


class DayArchive(DateArchiveMixin, DayArchiveView):
    template_name = "articles/archive_day.html"

    def get_seo(self):
        return {"title": f"{self.get_year()}年{int(self.get_month())}月{int(self.get_day())}日文章"}


# --- the article ----------------------------------------------------------------


class ArticleDetailView(SeoMixin, DetailView):
    template_name = "articles/article_detail.html"
    og_type = "article"
    counts_reads = True  # the page sends the reading beacon (articles.hot)

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            redirect = self._redirect_for_old_url()
            if redirect is None:
                raise
            return redirect

    @cached_property
    def day(self) -> dt.date:
        try:
            return dt.date(self.kwargs["year"], self.kwargs["month"], self.kwargs["day"])
        except ValueError as exc:
            raise Http404("No such date") from exc

    def get_object(self, queryset=None):
        queryset = Article.objects.published().select_related("author").prefetch_related("categories")
        return get_object_or_404(queryset, published_date=self.day, slug=self.kwargs["slug"])

    def _redirect_for_old_url(self):
        old = ArticleRedirect.objects.filter(published_date=self.day, slug=self.kwargs["slug"]).first()
        if old is not None:
            show(f"a:{old.article_id}")
        if old is None or not Article.objects.published().filter(pk=old.article_id).exists():
            return None
        return HttpResponsePermanentRedirect(old.article.get_absolute_url())

    def get_seo(self):
        article = self.object
        return {"title": article.title, "description": article.excerpt,
                "image": article.preview_image,
                "canonical": self.request.build_absolute_uri(article.get_absolute_url())}

    def get_context_data(self, **kwargs):
        article = self.object
        text_length = len(html_to_text(article.body))
        crumbs = [{"name": c.name, "url": c.get_absolute_url()} for c in article.category_trail]
        crumbs.append({"name": article.title, "headline": True})  # left out on phones (site.css)
        tags, keywords = self.tags_and_keywords(article)
        previous_article, next_article = neighbours(article)
        related = related_articles(article, tags, keywords)
        _show_article_page(article, tags, keywords, [previous_article, next_article, *related])
        return super().get_context_data(
            crumbs=crumbs,
            tags=tags,
            reading_minutes=max(1, math.ceil(text_length / READING_CHARS_PER_MINUTE)),
            previous_article=previous_article,
            next_article=next_article,
            related_articles=related,
            json_ld=news_article_json_ld(self.request, article),
            hit_url=reverse("articles:hit", args=[article.pk]) if self.counts_reads else "",
            current_channel=article.category_trail[0].pk if article.category_trail else None,
            **kwargs,
        )

    def tags_and_keywords(self, article: Article) -> tuple[list[Tag], list[str]]:
        """Its tags and pending keywords (the admin's preview of unsaved edits gives the form's tags)."""
        return tags_and_keywords(article)


@method_decorator(staff_member_required, name="dispatch")
class PreviewView(ArticleDetailView):
    """Any article as readers will see it, for the staff allowed to see it; never cached or indexed."""

    get = DetailView.get  # no old-URL redirects here: previews are addressed by id
    counts_reads = False  # an editor's preview is not a read

    def get_object(self, queryset=None):
        article = get_object_or_404(Article.objects.select_related("author"), pk=self.kwargs["pk"])
        if not can_view(self.request.user, article):
            raise Http404("No such article")
        return article

    def get_seo(self):
        return {**super().get_seo(), "noindex": True, "title": f"[预览] {self.object.title}"}

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
        return response


def _show_article_page(article: Article, tags, keywords, others) -> None:
    """The content keys of an article's page (articles.content_keys).

    The article, its categories, tags, outlet and reporters (by name), the
    articles it links to (neighbours, related: their titles), which articles
    are its neighbours (`nb:`), and the listings a new related article would
    come from (its tags, keywords, reporters, leaf category).
    """
    reporters = [reporter.pk for _role, group in article.byline_groups for reporter in group]
    trail = article.category_trail
    show(f"a:{article.pk}", f"nb:{article.pk}",
         *(f"c:{c.pk}" for c in trail), *(f"t:{t.pk}" for t in tags), *(f"rel:tag:{t.pk}" for t in tags),
         *(f"kw:{word}" for word in keywords),
         *(f"p:{pk}" for pk in reporters), *(f"rel:author:{pk}" for pk in reporters),
         *([f"p:{article.author_id}"] if article.author_id else []),
         *([f"rel:channel:{trail[-1].pk}"] if trail else []),
         *(f"a:{other.pk}" for other in others if other is not None))


def news_article_json_ld(request, article: Article) -> dict:
    """schema.org NewsArticle for search engines."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title[:110],
        "datePublished": article.published_at.isoformat(),
        "dateModified": article.modified_at.isoformat(),
        "mainEntityOfPage": request.build_absolute_uri(article.get_absolute_url()),
        "description": article.excerpt,
        "inLanguage": "zh-CN",
    }
    if article.preview_image:
        data["image"] = [article.preview_image]
    # The reporters in the dateline, then the outlet (the front matter's author).
    authors = [{"@type": "Person", "name": reporter.name,
                "url": request.build_absolute_uri(reporter.get_absolute_url())}
               for _role, reporters in article.byline_groups for reporter in reporters]
    if article.author:
        authors.append({"@type": "Organization", "name": article.author.name,
                        "url": request.build_absolute_uri(article.author.get_absolute_url())})
    if authors:
        data["author"] = authors
    return data
