"""JSON representations of articles, categories, tags and authors.

Times are ISO 8601 in Beijing time with its offset (2022-04-30T09:33:09+08:00);
links and images are absolute URLs; empty images are null.

`author` is the front matter's author (usually the outlet); the detail adds
`bylines`, the reporters credited in the dateline (newsroom.bylines), each
with the role printed there, in order — empty where none are known.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from taggit.models import Tag

from articles.models import Article, ArticleByline, Author, Category


def absolute(context: dict, url: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


@extend_schema_field(OpenApiTypes.URI)
class AbsoluteURLField(serializers.Field):
    """A site path (or URL) as an absolute URL."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: str) -> str:
        return absolute(self.context, value)


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class ImageURLField(AbsoluteURLField):
    """An image's site path or URL as an absolute URL; no image as null."""

    def to_representation(self, value: str) -> str | None:
        return super().to_representation(value) if value else None


class BeijingDateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs):
        super().__init__(default_timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE), read_only=True, **kwargs)


# Slugs are Unicode (华林证券): declared plainly, without the model field's
# ^[-\w]+$ pattern, which a JSON Schema validator reads with ASCII-only \w.
def slug_field() -> serializers.CharField:
    return serializers.CharField(read_only=True)


class AuthorSummarySerializer(serializers.ModelSerializer):
    slug = slug_field()
    url = AbsoluteURLField(source="get_absolute_url")

    class Meta:
        model = Author
        fields = ["id", "name", "slug", "url"]
        read_only_fields = fields


class TagSummarySerializer(serializers.ModelSerializer):
    slug = slug_field()

    class Meta:
        model = Tag
        fields = ["name", "slug"]
        read_only_fields = fields


class ArticleSerializer(serializers.ModelSerializer):
    """An article in a list."""

    slug = slug_field()
    url = AbsoluteURLField(source="get_absolute_url")
    published_at = BeijingDateTimeField()
    updated_at = BeijingDateTimeField(
        source="modified_at",
        help_text="When the article last changed in a way a reader sees (Hexo's `updated`); "
                  "never earlier than published_at.")
    author = AuthorSummarySerializer(read_only=True, allow_null=True)
    categories = serializers.SerializerMethodField(
        help_text="The paths of the article's categories, deepest nodes only (金融/财联社/深度 "
                  "stands for 金融 and 金融/财联社 too)."
    )
    tags = TagSummarySerializer(many=True, read_only=True)
    head_image = ImageURLField()
    thumbnail = ImageURLField()

    class Meta:
        model = Article
        fields = ["id", "title", "slug", "url", "published_at", "updated_at", "excerpt",
                  "author", "categories", "tags", "head_image", "thumbnail"]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_categories(self, article: Article) -> list[str]:
        # The article is linked to every node of its chains (models.link_ancestors):
        # a node that is the prefix of another linked node adds nothing.
        paths = sorted(c.path for c in article.categories.all())
        return [p for p in paths if not any(other.startswith(p + "/") for other in paths)]


class BylineSerializer(serializers.ModelSerializer):
    """A reporter credited on the article, with the role printed in the dateline (记者, 实习记者, 编辑…)."""

    author = AuthorSummarySerializer(read_only=True)

    class Meta:
        model = ArticleByline
        fields = ["role", "author"]
        read_only_fields = fields


class ArticleDetailSerializer(ArticleSerializer):
    """An article on its own: the list's fields, the sanitised body (HTML) and its bylines."""

    body = serializers.CharField(read_only=True, help_text="The body as sanitised HTML (the site's sanitiser).")
    bylines = BylineSerializer(source="byline_links", many=True, read_only=True,
                               help_text="Reporters named in the dateline, in order; empty where none are known.")

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "bylines"]
        read_only_fields = fields


class CategoryNodeSerializer(serializers.ModelSerializer):
    """A category with its subcategories; article_count covers the whole subtree."""

    slug = slug_field()
    url = AbsoluteURLField(source="get_absolute_url")
    article_count = serializers.IntegerField(
        read_only=True, help_text="Published articles in this category or any below it.")

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "path", "url", "article_count", "children"]
        read_only_fields = fields


# Declared after the class so that it can refer to itself; nodes are built by
# views.category_tree, with `subcategories` already in place (no queries).
CategoryNodeSerializer._declared_fields["children"] = CategoryNodeSerializer(
    many=True, read_only=True, source="subcategories")


class TagSerializer(serializers.ModelSerializer):
    slug = slug_field()
    url = serializers.SerializerMethodField(help_text="The tag's page on the site.")
    article_count = serializers.IntegerField(read_only=True, help_text="Published articles with this tag.")

    class Meta:
        model = Tag
        fields = ["id", "name", "slug", "url", "article_count"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, tag: Tag) -> str:
        return absolute(self.context, reverse("articles:tag", kwargs={"slug": tag.slug}))


class AuthorSerializer(AuthorSummarySerializer):
    article_count = serializers.IntegerField(read_only=True, help_text="Published articles by this author.")

    class Meta(AuthorSummarySerializer.Meta):
        fields = [*AuthorSummarySerializer.Meta.fields, "article_count"]
        read_only_fields = fields
