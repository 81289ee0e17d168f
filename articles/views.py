"""Public pages. Every query here starts from `Article.objects.published()`."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.generic import DetailView, ListView, TemplateView
from django.views.generic.dates import DayArchiveView, MonthArchiveView, YearArchiveView
from taggit.models import Tag

from . import archive, search
from .byline_links import credited_to
from .filters import ArticleFilter
from .models import EXCERPT_LENGTH as EXCERPT_CHARS
from .models import Article, ArticleRedirect, Author, Category
from .permissions import can_view
from .sanitize import html_to_text

PAGE_SIZE = 20
# Chinese readers take in about 400 characters a minute.
READING_CHARS_PER_MINUTE = 400


def listing(queryset: QuerySet[Article]) -> QuerySet[Article]:
    """Articles ready for a listing: author joined, categories in one extra query."""
    return (
        queryset.select_related("author")
        .prefetch_related(Prefetch("categories", queryset=Category.objects.only("id", "name", "path")))
        .order_by("-published_at", "-id")
    )


def published_count() -> Count:
    """A category's number of articles the public may see, for annotate()."""
    visible = Q(articles__status=Article.Status.PUBLISHED, articles__published_at__lte=timezone.now())
    return Count("articles", filter=visible)


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
        if page is not None and page.number > 1:
            path += f"?page={page.number}"
            seo["title"] = f"{seo.get('title') or ''} 第{page.number}页".strip()
        seo.setdefault("canonical", self.request.build_absolute_uri(path))
        context["seo"] = seo
        return context


class ArticleListView(SeoMixin, ListView):
    """A filtered, paginated list of published articles."""

    template_name = "articles/article_list.html"
    paginate_by = PAGE_SIZE
    context_object_name = "article_list"

    def base_queryset(self) -> QuerySet[Article]:
        return Article.objects.published()

    @cached_property
    def filterset(self) -> ArticleFilter:
        return ArticleFilter(self.request.GET, queryset=self.base_queryset())

    def get_queryset(self):
        # An invalid filter value (a malformed date) gives an empty list, not an error.
        queryset = self.filterset.qs if self.filterset.is_valid() else Article.objects.none()
        return listing(queryset)

    def get_context_data(self, **kwargs):
        return super().get_context_data(filterset=self.filterset, **kwargs)


class HomeView(ArticleListView):
    template_name = "articles/home.html"


class CategoryIndexView(SeoMixin, TemplateView):
    template_name = "articles/category_index.html"
    seo_title = "全部栏目"

    def get_context_data(self, **kwargs):
        tree = Category.objects.annotate(article_count=published_count())
        return super().get_context_data(categories=tree.order_by("path"), **kwargs)


class CategoryView(ArticleListView):
    template_name = "articles/category.html"

    @cached_property
    def category(self) -> Category:
        return get_object_or_404(Category, path=self.kwargs["path"])

    def base_queryset(self):
        # An article is linked to every node of its chains (models.link_ancestors),
        # so the category's own links cover its whole subtree: one indexed query.
        return super().base_queryset().filter(categories=self.category)

    def get_seo(self):
        return {"title": self.category.path_display,
                "description": f"{self.category.path_display}栏目的最新文章"}

    def get_context_data(self, **kwargs):
        children = self.category.children.annotate(article_count=published_count()).order_by("name")
        crumbs = [{"name": c.name, "url": c.get_absolute_url()} for c in self.category.lineage]
        return super().get_context_data(category=self.category, children=children, crumbs=crumbs, **kwargs)


class TagView(ArticleListView):
    template_name = "articles/tag.html"

    @cached_property
    def tag(self) -> Tag:
        return get_object_or_404(Tag, slug=self.kwargs["slug"])

    def base_queryset(self):
        return super().base_queryset().filter(tags=self.tag)

    def get_seo(self):
        return {"title": f"标签：{self.tag.name}", "description": f"标签“{self.tag.name}”的相关文章"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(tag=self.tag, crumbs=[{"name": f"标签：{self.tag.name}"}], **kwargs)


class AuthorView(ArticleListView):
    template_name = "articles/author.html"

    @cached_property
    def author(self) -> Author:
        return get_object_or_404(Author, slug=self.kwargs["slug"])

    def base_queryset(self):
        # The outlet's articles and the reporter's bylines alike.
        return super().base_queryset().filter(credited_to(self.author))

    def get_seo(self):
        return {"title": self.author.name, "description": f"{self.author.name}的文章"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, crumbs=[{"name": self.author.name}], **kwargs)


class SearchView(ArticleListView):
    """Ranked search; the paginator pages ranked ids, then one page is loaded."""

    template_name = "articles/search.html"
    max_query_chars = 100

    @cached_property
    def query(self) -> str:
        return self.request.GET.get("q", "").replace("\x00", "").strip()[: self.max_query_chars]

    def get_queryset(self):
        if not self.query or not self.filterset.is_valid():
            return []
        return search.search(self.query, queryset=self.filterset.qs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.query, result_count=len(self.object_list), **kwargs)
        page_ids = list(context["article_list"])
        loaded = {a.id: a for a in listing(Article.objects.filter(id__in=page_ids))}
        results = [loaded[i] for i in page_ids if i in loaded]
        for article in results:
            article.highlighted_title = search.highlight(article.title, self.query)
            article.highlighted_excerpt = search.highlight(
                html_to_text(article.body), self.query, max_chars=EXCERPT_CHARS)
        context["article_list"] = context["object_list"] = results
        return context

    def get_seo(self):
        return {"title": f"搜索：{self.query}" if self.query else "搜索", "noindex": True}


# --- date archives --------------------------------------------------------------


class ArchiveIndexView(SeoMixin, TemplateView):
    template_name = "articles/archive_index.html"
    seo_title = "文章归档"

    def get_context_data(self, **kwargs):
        return super().get_context_data(years=archive.month_counts(Article.objects.published()), **kwargs)


class DateArchiveMixin(SeoMixin):
    """Shared settings of the year, month and day archives.

    Django's date views filter with half-open ranges of local (Beijing) time,
    which use the published_at index; allow_empty=False makes an empty or
    impossible period a 404.
    """

    date_field = "published_at"
    allow_empty = False
    allow_future = False
    paginate_by = PAGE_SIZE
    month_format = "%m"
    day_format = "%d"
    context_object_name = "article_list"

    def get_queryset(self):
        return listing(Article.objects.published())


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
        queryset = Article.objects.published().select_related("author").prefetch_related("categories", "tags")
        return get_object_or_404(queryset, published_date=self.day, slug=self.kwargs["slug"])

    def _redirect_for_old_url(self):
        old = ArticleRedirect.objects.filter(published_date=self.day, slug=self.kwargs["slug"]).first()
        if old is None or not Article.objects.published().filter(pk=old.article_id).exists():
            return None
        return HttpResponsePermanentRedirect(old.article.get_absolute_url())

    def get_seo(self):
        article = self.object
        return {"title": article.title, "description": article.excerpt,
                "image": article.head_image or article.thumbnail,
                "canonical": self.request.build_absolute_uri(article.get_absolute_url())}

    def get_context_data(self, **kwargs):
        article = self.object
        text_length = len(html_to_text(article.body))
        crumbs = [{"name": c.name, "url": c.get_absolute_url()} for c in article.category_trail]
        crumbs.append({"name": article.title})
        return super().get_context_data(
            crumbs=crumbs,
            reading_minutes=max(1, math.ceil(text_length / READING_CHARS_PER_MINUTE)),
            previous_article=_neighbour(article, older=True),
            next_article=_neighbour(article, older=False),
            related_articles=related_articles(article),
            json_ld=news_article_json_ld(self.request, article),
            **kwargs,
        )


@method_decorator(staff_member_required, name="dispatch")
class PreviewView(ArticleDetailView):
    """Any article as readers will see it, for the staff allowed to see it; never cached or indexed."""

    get = DetailView.get  # no old-URL redirects here: previews are addressed by id

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


def _neighbour(article: Article, *, older: bool) -> Article | None:
    """The published article just before (or after) this one in time."""
    if older:
        before = Q(published_at__lt=article.published_at) | Q(published_at=article.published_at, id__lt=article.id)
        return Article.objects.published().filter(before).order_by("-published_at", "-id").only(
            "title", "slug", "published_date", "published_at").first()
    after = Q(published_at__gt=article.published_at) | Q(published_at=article.published_at, id__gt=article.id)
    return Article.objects.published().filter(after).order_by("published_at", "id").only(
        "title", "slug", "published_date", "published_at").first()


def related_articles(article: Article, limit: int = 5) -> list[Article]:
    """Recent published articles sharing the most tags and categories.

    Candidates are bounded (the latest few dozen per shared tag or leaf
    category), so the cost does not grow with the archive.
    """
    tag_ids = [t.id for t in article.tags.all()]
    trail = article.category_trail
    leaf_ids = [trail[-1].id] if trail else []
    if not tag_ids and not leaf_ids:
        return []
    recent = Article.objects.published().exclude(pk=article.pk).order_by("-published_at")
    scores: dict[int, int] = {}
    for tag_id in tag_ids:
        for pk in recent.filter(tags=tag_id).values_list("pk", flat=True)[:50]:
            scores[pk] = scores.get(pk, 0) + 2
    for category_id in leaf_ids:
        for pk in recent.filter(categories=category_id).values_list("pk", flat=True)[:50]:
            scores[pk] = scores.get(pk, 0) + 1
    best = sorted(scores, key=lambda pk: (-scores[pk], -pk))[:limit]
    found = {a.pk: a for a in Article.objects.filter(pk__in=best).only("title", "slug", "published_date", "published_at")}
    return [found[pk] for pk in best if pk in found]


def news_article_json_ld(request, article: Article) -> dict:
    """schema.org NewsArticle for search engines."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title[:110],
        "datePublished": article.published_at.isoformat(),
        "dateModified": article.updated_at.isoformat(),
        "mainEntityOfPage": request.build_absolute_uri(article.get_absolute_url()),
        "description": article.excerpt,
        "inLanguage": "zh-CN",
    }
    if article.head_image or article.thumbnail:
        data["image"] = [article.head_image or article.thumbnail]
    if article.author:
        data["author"] = [{"@type": "Organization", "name": article.author.name,
                           "url": request.build_absolute_uri(article.author.get_absolute_url())}]
    return data
