"""The API's endpoints. Every article queryset starts from `Article.objects.published()`.

What is listed:

* articles: published ones only; a draft's, review's or scheduled article's
  id is a 404, exactly like its page on the site;
* categories, tags and authors: only those with at least one published
  article (for a category: in its subtree), as on the site, with that
  number; a name used only by unpublished work (an embargoed story's tag, a
  branch of drafts) is not disclosed.

Every endpoint answers conditional GETs (ETag, Last-Modified; see freshness),
rejects query parameters it does not know with a 400 that names them, and is
throttled per client address (throttling).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import condition
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.response import Response
from taggit.models import Tag

from articles.models import Article, ArticleByline, Author, Category
from articles.querysets import listing, with_counts
from api import freshness
from api.filters import ArticleAPIFilter
from api.pagination import ArticlePagination, NamePagination
from api.serializers import (
    ArticleDetailSerializer,
    ArticleSerializer,
    AuthorSerializer,
    CategoryNodeSerializer,
    TagSerializer,
)

conditional = method_decorator(
    condition(etag_func=freshness.response_etag, last_modified_func=freshness.response_last_modified)
)

ERROR_RESPONSES = {
    400: OpenApiResponse(description="A query parameter is unknown or its value is invalid; "
                                     "the body maps each such parameter to its errors."),
    429: OpenApiResponse(description="Too many requests from this address; see Retry-After."),
}


MOMENT = ("An ISO 8601 date (2022-04-30, midnight in Beijing) or date-time (2022-04-30T09:33, "
          "2022-04-30T01:33:09Z); without an offset, Beijing time (+08:00).")
ARTICLE_FILTER_DOCS = [
    OpenApiParameter("category", str, description="A category path (金融/财联社); includes its subcategories. "
                                                  "An unknown path is a 400."),
    OpenApiParameter("tag", str, description="A tag's slug (see /api/v1/tags/). An unknown tag is a 400."),
    OpenApiParameter("author", str, description="An author's slug (see /api/v1/authors/). "
                                                "An unknown author is a 400."),
    OpenApiParameter("published_after", str, description=f"Published at or after this moment. {MOMENT}"),
    OpenApiParameter("published_before", str, description=f"Published before this moment. {MOMENT}"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="From this Beijing calendar day (inclusive)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="To this Beijing calendar day (inclusive)."),
    OpenApiParameter("q", str, description="Full-text search as on the site (Chinese words or phrases; "
                                           "every term must occur). Results stay newest first; at most the "
                                           "1000 best matches are considered."),
]


def reject_unknown_parameters(request, allowed: set[str]) -> None:
    """A 400 naming every query parameter not in `allowed`, or holding a NUL character."""
    errors = {}
    for name, values in request.query_params.lists():
        if name not in allowed:
            accepted = ", ".join(sorted(allowed)) or _("none")
            errors[name] = [_("Unknown query parameter. This endpoint accepts: %(names)s.") % {"names": accepted}]
        elif any("\x00" in value for value in values):
            errors[name] = [_("Null characters are not allowed.")]
    if errors:
        raise ValidationError(errors)


class ThrottleMessageMixin:
    """A 429 that says what the limit is and when to come back (also in Retry-After)."""

    def throttled(self, request, wait):
        number, period = settings.NEWSPORTAL_API_ANON_RATE.split("/")
        unit = {"s": "second", "m": "minute", "h": "hour", "d": "day"}[period[0]]
        seconds = math.ceil(wait or 1)
        exc = Throttled(detail=_(
            "Too many requests: each client address may make %(number)s requests per %(unit)s. "
            "Try again in %(seconds)d seconds.") % {"number": number, "unit": unit, "seconds": seconds})
        exc.wait = seconds
        raise exc


class ContentAPIView(ThrottleMessageMixin, viewsets.GenericViewSet):
    """Strict query parameters, conditional GET and cache headers for every endpoint."""

    filterset_class = None

    def allowed_query_parameters(self) -> set[str]:
        if self.action != "list":
            return set()
        allowed = set()
        if self.filterset_class is not None:
            allowed |= set(self.filterset_class.base_filters)
        if self.paginator is not None:
            allowed |= set(self.paginator.query_params)
        return allowed

    # The content key of the list (articles.content_keys): what it shows.
    list_key = ""

    def initial(self, request, *args, **kwargs):
        # Before DRF's content negotiation, which would answer ?format=xml with a 404.
        reject_unknown_parameters(request, self.allowed_query_parameters())
        super().initial(request, *args, **kwargs)
        freshness.show(request, *self.content_keys())

    def content_keys(self) -> tuple[str, ...]:
        return (self.list_key,) if self.action == "list" and self.list_key else ()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code in (200, 304):
            patch_cache_control(response, public=True, max_age=settings.NEWSPORTAL_API_CACHE_SECONDS)
            keys = freshness.keys_of(request)
            if keys:
                response["xkey"] = response["Surrogate-Key"] = " ".join(keys)
        return response

    def cached_list(self, request) -> Response:
        """The list's data from the cache while what it shows is unchanged, or computed and cached."""
        return Response(freshness.cached_data(request, lambda: self.compute_list(request).data))

    def compute_list(self, request) -> Response:
        return mixins.ListModelMixin.list(self, request)

    @conditional
    def list(self, request, *args, **kwargs):
        return self.cached_list(request)


@extend_schema_view(
    list=extend_schema(
        summary="Published articles, newest first",
        description="Filtered with the site's filters (all given filters must match); paged with "
                    "cursors: follow `next` until it is null.",
        parameters=ARTICLE_FILTER_DOCS,
        responses={200: ArticleSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One published article, with its body",
        responses={200: ArticleDetailSerializer, 404: OpenApiResponse(description="No published article has this id."),
                   **ERROR_RESPONSES},
    ),
)
class ArticleViewSet(mixins.RetrieveModelMixin, ContentAPIView):
    serializer_class = ArticleSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ArticleAPIFilter
    pagination_class = ArticlePagination
    # Ids beyond a 64-bit integer are not ids: a 404 from the URL resolver.
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Article]:
        # taggit prefetches the whole page's tags in one query (a join on the link table).
        articles = listing(Article.objects.published()).prefetch_related("tags")
        if self.action == "retrieve":
            articles = articles.prefetch_related(
                Prefetch("byline_links", queryset=ArticleByline.objects.select_related("author")))
        return articles

    list_key = "home"  # every published article (filtered or not)

    def get_serializer_class(self):
        return ArticleDetailSerializer if self.action == "retrieve" else ArticleSerializer

    def content_keys(self) -> tuple[str, ...]:
        # `names`: the answers print category paths, tag and author names, whose ids are not
        # known before the answer is computed (the keys are decided before, for the ETag).
        if self.action == "retrieve":
            return (f"a:{self.kwargs[self.lookup_field]}", "names")
        return (*super().content_keys(), "names")

    @conditional
    def retrieve(self, request, *args, **kwargs):
        return Response(freshness.cached_data(request, lambda: super(ArticleViewSet, self).retrieve(
            request, *args, **kwargs).data))


def category_tree(categories: list[Category]) -> list[Category]:
    """The roots of `categories` (ordered by path), each node's `subcategories` filled in."""
    by_id = {c.id: c for c in categories}
    roots = []
    for category in categories:
        category.subcategories = []
    for category in categories:
        parent = by_id.get(category.parent_id)
        (parent.subcategories if parent is not None else roots).append(category)
    return roots


@extend_schema_view(list=extend_schema(
    summary="The category tree",
    description="Every category with a published article in its subtree, roots first; `article_count` "
                "counts published articles in the subtree.",
    responses={200: CategoryNodeSerializer(many=True), **ERROR_RESPONSES},
))
class CategoryViewSet(ContentAPIView):
    serializer_class = CategoryNodeSerializer
    pagination_class = None
    list_key = "categories"

    def get_queryset(self) -> QuerySet[Category]:
        return Category.objects.public().order_by("path")

    def compute_list(self, request) -> Response:
        # The site's per-version counts (articles.views.category_counts), not a GROUP BY per request.
        roots = category_tree(with_counts(self.get_queryset()))
        return Response(self.get_serializer(roots, many=True).data)


def with_published_count(queryset: QuerySet, articles: str) -> QuerySet:
    """`queryset` annotated with article_count, the published articles reached through
    `articles`, and limited to rows where it is at least 1."""
    visible = Q(**{f"{articles}__in": Article.objects.published()})
    return queryset.annotate(article_count=Count(articles, filter=visible)).filter(article_count__gt=0)


@extend_schema_view(list=extend_schema(
    summary="Tags of published articles",
    description="Alphabetical, paged with cursors; `article_count` counts published articles.",
    responses={200: TagSerializer(many=True), **ERROR_RESPONSES},
))
class TagViewSet(ContentAPIView):
    serializer_class = TagSerializer
    pagination_class = NamePagination
    list_key = "tags"

    def get_queryset(self) -> QuerySet[Tag]:
        return with_published_count(Tag.objects.all(), "articles_taggedarticle_items__content_object")


@extend_schema_view(list=extend_schema(
    summary="Authors of published articles",
    description="Alphabetical, paged with cursors; `article_count` counts published articles.",
    responses={200: AuthorSerializer(many=True), **ERROR_RESPONSES},
))
class AuthorViewSet(ContentAPIView):
    serializer_class = AuthorSerializer
    pagination_class = NamePagination
    list_key = "authors"

    def get_queryset(self) -> QuerySet[Author]:
        return Author.objects.with_article_counts()


class SchemaView(ThrottleMessageMixin, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML, or JSON with ?format=json or Accept: application/json)."""


class DocsView(ThrottleMessageMixin, SpectacularSwaggerSplitView):
    """Swagger UI, its assets served from our static files (drf-spectacular-sidecar)."""
