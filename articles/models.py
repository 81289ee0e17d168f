"""The article store: categories (a tree), authors, tags and articles."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import Tag, TaggedItemBase

from articles import plain_sql
from articles.images import usable_image
from articles.reverse_cache import reverse_cached
from articles.sanitize import EXCERPT_LENGTH, IMAGE_URL_PATTERN, make_excerpt, sanitize_body
# Re-exported: the rest of the project has always imported them from here.
from articles.slugs import SLUG_MAX_LENGTH, unicode_slug, unique_slug  # noqa: F401


url_or_path = RegexValidator(
    IMAGE_URL_PATTERN, _("Enter an http(s) URL or a site path starting with /."), flags=re.IGNORECASE,
)


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date of `moment` where the newsroom is (TIME_ZONE, Beijing)."""
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def path_prefixes(path: str) -> list[str]:
    """The paths from the root down to `path`: 金融, 金融/财联社, 金融/财联社/深度."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def group_bylines(credits: Iterable[tuple[str, "Author"]]) -> list[tuple[str, list["Author"]]]:
    """(role, reporter) pairs in dateline order, consecutive ones of a role together: [("记者", [甲, 乙])]."""
    groups: list[tuple[str, list[Author]]] = []
    for role, reporter in credits:
        if groups and groups[-1][0] == role:
            groups[-1][1].append(reporter)
        else:
            groups.append((role, [reporter]))
    return groups


def trail_of(linked: list["Category"]) -> list["Category"]:
    """Of an article's linked categories, the deepest one's chain, root first."""
    if not linked:
        return []
    by_path = {c.path: c for c in linked}
    deepest = max(linked, key=lambda c: (c.depth, c.path))
    return [by_path[p] for p in path_prefixes(deepest.path) if p in by_path]


class CategoryQuerySet(models.QuerySet):
    def public(self) -> "CategoryQuerySet":
        """Categories with a published article in their subtree: the only ones the public may see.

        An article is linked to every node of its chains (link_ancestors), so a
        node's own links cover its subtree; a category holding only drafts,
        reviews or scheduled work is no more visible than one that does not exist.
        """
        links = ArticleCategory.objects.filter(Article.published_q("article__"), category=models.OuterRef("pk"))
        return self.filter(models.Exists(links))


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, allow_unicode=True, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    # Slugs from the root down, e.g. 金融/财联社/深度: the URL, the breadcrumbs and
    # the descendant lookup (path__startswith) all read it without recursion.
    path = models.CharField(_("path"), max_length=1100, unique=True, editable=False)
    # The home page's channel sections (articles.front): top-level categories with a
    # number get a section, smallest first; the header's channel bar lists them first too.
    front_order = models.PositiveSmallIntegerField(
        _("front page position"), null=True, blank=True,
        help_text=_("Top-level categories only: a section on the home page, smallest number first. "
                    "Empty: no section of its own (it stays in the channel bar)."),
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(parent__isnull=True),
                name="category_unique_top_level_name",
            ),
        ]

    def __str__(self) -> str:
        return self.path_display

    @property
    def path_display(self) -> str:
        return " › ".join(self.path_names)

    @property
    def path_names(self) -> list[str]:
        return [c.name for c in self.lineage]

    @property
    def depth(self) -> int:
        return self.path.count("/")

    @cached_property
    def lineage(self) -> list["Category"]:
        """Ancestors from the root down, then this category (one query, cached)."""
        prefixes = path_prefixes(self.path)[:-1]
        ancestors = {c.path: c for c in Category.objects.filter(path__in=prefixes)}
        return [ancestors[p] for p in prefixes if p in ancestors] + [self]

    def get_absolute_url(self) -> str:
        return reverse_cached("articles:category", path=self.path)

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None and self.front_order is not None:
            raise ValidationError({"front_order": _("Only a top-level category has a section on the home page.")})

    @staticmethod
    def build_path(parent: "Category | None", slug: str) -> str:
        return f"{parent.path}/{slug}" if parent else slug

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            if not self.slug:
                siblings = Category.objects.filter(parent=self.parent).exclude(pk=self.pk)
                self.slug = unique_slug(
                    unicode_slug(self.name, "category", 100),
                    set(siblings.values_list("slug", flat=True)), 100,
                )
            old_path = self.path
            self.path = self.build_path(self.parent, self.slug)
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                self._move_descendants(old_path)

    def _move_descendants(self, old_path: str) -> None:
        for child in Category.objects.filter(path__startswith=old_path + "/").order_by("path"):
            child.path = self.path + child.path[len(old_path):]
            super(Category, child).save(update_fields=["path"])


class AuthorQuerySet(models.QuerySet):
    def public(self) -> "AuthorQuerySet":
        """Authors credited on a published article, as its author (the outlet) or in its bylines.

        Only these have a public page, feed or API row: a name that only
        unpublished work carries (an embargoed story's reporter) is not disclosed.
        """
        credited = ArticleByline.objects.filter(Article.published_q("article__"), author=models.OuterRef("pk"))
        return self.filter(models.Exists(Article.objects.published().filter(author=models.OuterRef("pk")))
                           | models.Exists(credited))

    def with_article_counts(self) -> "AuthorQuerySet":
        """Public authors annotated with `article_count`: the published articles credited to each,
        as the author (the outlet) or in a byline, each article counted once."""
        credited = (Article.objects.published().order_by()
                    .filter(models.Q(author=models.OuterRef("pk")) | models.Q(pk__in=ArticleByline.objects.filter(
                        author=models.OuterRef(models.OuterRef("pk"))).values("article_id")))
                    .annotate(n=models.Func(models.F("pk"), function="COUNT")).values("n"))
        return self.annotate(article_count=models.Subquery(credited)).filter(article_count__gt=0)


class Author(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, allow_unicode=True, unique=True, blank=True)

    objects = AuthorQuerySet.as_manager()

    class Meta:
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse_cached("articles:author", slug=self.slug)

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            others = Author.objects.exclude(pk=self.pk).values_list("slug", flat=True)
            self.slug = unique_slug(unicode_slug(self.name, "author", 100), set(others), 100)
        super().save(*args, **kwargs)


class TaggedArticle(TaggedItemBase):
    """taggit's link table, with a real foreign key to Article (joins, not GFKs).

    `published_at` is copied from the article, as on ArticleCategory, so that a
    tag listing is one index range scan on (tag, published_at) instead of
    sorting all of the tag's articles.
    """

    content_object = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="tagged_items")
    published_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = _("tagged article")
        verbose_name_plural = _("tagged articles")
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="taggedarticle_unique_tag"),
        ]
        indexes = [
            models.Index(fields=["tag", "-published_at", "-content_object"], name="taggedarticle_listing_idx"),
        ]


class ArticleQuerySet(models.QuerySet):
    def published(self) -> "ArticleQuerySet":
        """The one definition of what the public may see.

        Status published and a publication time that has come: a future time
        is a schedule, and the article appears by itself when it passes.
        """
        return self.filter(Article.published_q())

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)  # a generator would be used up by the loop below
        for obj in objs:
            obj.sanitise_and_derive_fields()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.sanitise_and_derive_fields()
        fields = set(fields) | {"body", "excerpt", "published_date"}
        return super().bulk_update(objs, fields, *args, **kwargs)


class RevisionLinks(models.Model):
    """What a revision keeps beside the article's own columns: its categories, tags and bylines then.

    A snapshot per revision rather than simple-history's m2m tracking, which
    writes a revision for every link change (the admin's inline, the ancestors
    linked after it, taggit) instead of one per save. Filled by
    newsroom.revisions.
    """

    category_ids = models.JSONField(_("category ids"), default=list, blank=True)
    category_names = models.JSONField(_("categories"), default=list, blank=True)  # as they read then
    tag_names = models.JSONField(_("tags"), default=list, blank=True)
    byline_credits = models.JSONField(_("bylines"), default=list, blank=True)  # [[role, name], …] in order

    class Meta:
        abstract = True


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=500)
    slug = models.SlugField(
        _("slug"), max_length=SLUG_MAX_LENGTH, allow_unicode=True, blank=True,
        help_text=_("Unique per publication day; made from the title when left empty."),
    )
    body = models.TextField(_("body"), blank=True)
    excerpt = models.TextField(_("excerpt"), blank=True, editable=False)
    # Set when the excerpt was imported as given (the front matter's `excerpt` or
    # `description`, or the body before Hexo's `<!-- more -->`): saving keeps it
    # instead of cutting a new one from the body's start.
    excerpt_explicit = models.BooleanField(_("excerpt given"), default=False, editable=False)
    published_at = models.DateTimeField(_("publication time"), default=timezone.now)
    # The Beijing calendar day of published_at: the day in the article's URL,
    # and what "unique per publication day" means for slugs.
    published_date = models.DateField(_("publication date"), editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        Author, verbose_name=_("author"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="articles",
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), through="ArticleCategory",
        related_name="articles", blank=True,
    )
    tags = TaggableManager(verbose_name=_("tags"), through=TaggedArticle, blank=True)
    head_image = models.CharField(_("head image"), max_length=1000, blank=True, validators=[url_or_path])
    thumbnail = models.CharField(_("thumbnail"), max_length=1000, blank=True, validators=[url_or_path])
    comments_enabled = models.BooleanField(_("comments enabled"), default=True)
    # The reporters named in the dateline (see newsroom.bylines), apart from
    # `author`, which is usually the outlet.
    bylines = models.ManyToManyField(
        Author, verbose_name=_("bylines"), through="ArticleByline", related_name="bylined_articles", blank=True,
    )
    # Set when an editor corrects the bylines: detection (on save, on import,
    # by detect_bylines) then leaves them alone.
    bylines_edited = models.BooleanField(
        _("bylines corrected"), default=False,
        help_text=_("Keep these bylines: detection from the dateline (on save and on import) leaves them alone. "
                    "Untick to let detection set them again."),
    )
    extra_front_matter = models.JSONField(
        _("other front matter"), default=dict, blank=True,
        help_text=_("Front-matter keys the importer does not map to a field, kept as they were."),
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="articles",
        help_text=_("The staff user who created the article."),
    )
    # Optimistic locking: every save increments it; an edit based on an older
    # version is refused instead of overwriting someone else's changes.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # Set when an editor changes the article; a later import leaves it alone
    # (reported as "kept local edits") unless run with --overwrite-edited.
    edited_locally = models.BooleanField(_("edited locally"), default=False, editable=False)

    source_path = models.CharField(_("source path"), max_length=1000, blank=True, editable=False)
    import_key = models.CharField(
        _("import key"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the article last changed in a way a reader sees (Hexo's `updated`):
    # set by the import (the front matter's `updated`, else the time it wrote
    # changed content), by `save()` (unless `keep_updated_at`), and wound back
    # by newsroom.operations.save_as_edit when an edit changed nothing a
    # reader sees (status, comments, other front matter). What the public
    # site shows is `modified_at`.
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    objects = ArticleQuerySet.as_manager()
    # A revision per save (who, when, every field; see newsroom.revisions). The
    # importer's bulk writes record none: the admin records an import's version
    # when an editor first changes it.
    history = HistoricalRecords(
        bases=[RevisionLinks], excluded_fields=["excerpt", "excerpt_explicit"],
        verbose_name=_("article revision"), verbose_name_plural=_("article revisions"),
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-published_at", "-id"]
        get_latest_by = "published_at"
        permissions = [("publish_article", _("Can publish and schedule articles"))]
        constraints = [
            models.UniqueConstraint(fields=["published_date", "slug"], name="article_unique_slug_per_day"),
        ]
        indexes = [
            models.Index(fields=["-published_at", "-id"], name="article_published_at_idx"),
            # With the id: PostgreSQL's indexes do not carry it as SQLite's do, and
            # without it the published listing's (time, id) order and an old
            # ?page=N link's OFFSET read every row's status from the table.
            models.Index(fields=["status", "-published_at", "-id"], name="article_status_published_idx"),
            # Covers the archive's per-day counts (GROUP BY published_date) without reading rows.
            models.Index(fields=["status", "published_date", "published_at"], name="article_status_day_idx"),
            models.Index(fields=["author", "-published_at"], name="article_author_published_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def published_q(prefix: str = "") -> models.Q:
        """The rule `published()` applies, for filters across a relation (prefix "article__")."""
        return models.Q(**{f"{prefix}status": Article.Status.PUBLISHED, f"{prefix}published_at__lte": timezone.now()})

    @classmethod
    def from_db(cls, db, field_names, values):
        article = super().from_db(db, field_names, values)
        # Remembered so that a changed slug or day can redirect from the old URL.
        fields = article.__dict__
        if "published_date" in fields and "slug" in fields:
            article._loaded_url_key = (article.published_date, article.slug)
        return article

    def get_absolute_url(self) -> str:
        day = self.published_date or local_date(self.published_at)
        return reverse_cached("articles:article", year=day.year, month=day.month, day=day.day, slug=self.slug)

    @property
    def modified_at(self) -> dt.datetime:
        """The last-modified time the site shows (JSON-LD, sitemaps, feeds, the API): `updated_at`,
        never earlier than the publication time (a Hexo `updated` may be; it is stored as given)."""
        return max(self.updated_at, self.published_at)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    def sanitise_and_derive_fields(self) -> None:
        """Derive everything stored from the editable fields; sanitise the body.

        Every write path calls this (save, bulk_create, bulk_update), so no
        path can store unsanitised HTML. A body that is exactly the string the
        sanitiser returned is not sanitised again. An excerpt imported as given
        (`excerpt_explicit`) is kept.
        """
        if self.body is not getattr(self, "_sanitized_body", None):
            self.body = sanitize_body(self.body)
            self._sanitized_body = self.body
        if not self.excerpt_explicit and (
            self.body is not getattr(self, "_excerpt_of", None) or self.title != getattr(self, "_excerpt_title", None)
        ):
            # (the importer derives it beforehand) The title counts: a leading 【title】 is left out.
            self.excerpt = make_excerpt(self.body, EXCERPT_LENGTH, self.title)
            self._excerpt_of, self._excerpt_title = self.body, self.title
        self.published_date = local_date(self.published_at)

    def save(self, *args, keep_updated_at: bool = False, **kwargs) -> None:
        """Save; the last-modified time becomes now unless `keep_updated_at` (set it yourself)."""
        with transaction.atomic():
            self.sanitise_and_derive_fields()
            if not keep_updated_at:
                self.updated_at = timezone.now()
            if self.pk is not None:
                self.version += 1
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
            if not self.slug:
                self.slug = unicode_slug(self.title, "article")
            self.slug = self._slug_free_on(self.published_date)
            super().save(*args, **kwargs)
            record_url_changes([self])
            stamp_links(self)

    @property
    def card_image(self) -> str:
        """The picture of the story in listings (thumbnail, else head image), "" for a text card (articles.images)."""
        return usable_image(self.thumbnail, self.head_image)

    @property
    def page_image(self) -> str:
        """The head image of its page, never a placeholder service's; "" for none."""
        return usable_image(self.head_image)

    @property
    def preview_image(self) -> str:
        """The picture of its previews (og:image, JSON-LD): the head image, else the thumbnail; "" for none."""
        return usable_image(self.head_image, self.thumbnail)

    # Front-matter keys (kept in extra_front_matter by the importer) that name where a story was first published.
    SOURCE_LINK_KEYS = ("source_url", "original_url", "source", "original", "link", "from")

    @property
    def source_link(self) -> str:
        """The original's address when the front matter carries one (http or https only), else ""."""
        extra = self.extra_front_matter if isinstance(self.extra_front_matter, dict) else {}
        for key in self.SOURCE_LINK_KEYS:
            value = extra.get(key)
            if isinstance(value, str) and re.match(r"https?://[^\s/]+\.[^\s]+$", value.strip(), re.IGNORECASE):
                return value.strip()
        return ""

    @cached_property
    def byline_groups(self) -> list[tuple[str, list["Author"]]]:
        """The bylines as the dateline prints them: [("记者", [张勤峰]), ("实习记者", [连润])]."""
        if not self.pk:
            return []
        # Plain SQL (articles.plain_sql): the article page reads this on every render.
        rows = plain_sql.fetch(ArticleByline, f"""
            SELECT b.role, a.id, a.name, a.slug FROM {ArticleByline._meta.db_table} b
              INNER JOIN {Author._meta.db_table} a ON a.id = b.author_id
            WHERE b.article_id = %s ORDER BY b.position, b.id""", [self.pk])
        return group_bylines((role, Author(pk=pk, name=name, slug=slug)) for role, pk, name, slug in rows)

    @cached_property
    def category_trail(self) -> list["Category"]:
        """The deepest category's chain, root first (金融, 财联社, 深度).

        Built from the article's own links (it is linked to every node of its
        chains), so a prefetched listing needs no query per article.
        """
        return trail_of(list(self.categories.all()))

    def _slug_free_on(self, day: dt.date) -> str:
        taken = Article.objects.filter(published_date=day, slug__startswith=self.slug[:60])
        return unique_slug(self.slug, set(taken.exclude(pk=self.pk).values_list("slug", flat=True)))


class ArticleCategory(models.Model):
    """An article's link to one category node.

    `published_at` is copied from the article so that a category listing is one
    index range scan on (category, published_at) instead of a join and a sort.
    """

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE)
    published_at = models.DateTimeField(_("publication time"), null=True)

    class Meta:
        verbose_name = _("category link")
        verbose_name_plural = _("category links")
        constraints = [
            models.UniqueConstraint(fields=["article", "category"], name="articlecategory_unique"),
        ]
        indexes = [
            models.Index(fields=["category", "-published_at", "-article"], name="articlecategory_listing_idx"),
        ]

    def __str__(self) -> str:
        # The inline row's label on the article form, the history and delete pages: the
        # category's path (金融 › 财联社 › 深度), never "ArticleCategory object (4)".
        return str(self.category)


class ArticleByline(models.Model):
    """A reporter credited on an article, in the dateline's order, with the role printed there."""

    class Role(models.TextChoices):
        REPORTER = "记者", _("reporter")
        INTERN = "实习记者", _("intern reporter")
        TRAINEE = "见习记者", _("trainee reporter")
        CHIEF = "首席记者", _("chief reporter")
        SPECIAL = "特约记者", _("special correspondent")
        CORRESPONDENT = "通讯员", _("correspondent")
        EDITOR = "编辑", _("editor (compiled the story)")

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="byline_links")
    author = models.ForeignKey(
        Author, verbose_name=_("reporter"), on_delete=models.CASCADE, related_name="byline_links")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.REPORTER)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Copied from the article, as on ArticleCategory (stamp_links): a reporter's latest
    # articles (the related list's candidates) are one index range scan on (author,
    # published_at), not a join and a sort of all of them (18 ms for a reporter of 2,000).
    published_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = _("byline")
        verbose_name_plural = _("bylines")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="articlebyline_unique_author"),
        ]
        indexes = [
            models.Index(fields=["author", "-published_at", "-article"], name="articlebyline_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.author.name}"

    def save(self, *args, **kwargs) -> None:
        # A byline saved one by one (the admin's inline, a shell) gets its article's time;
        # bulk writers (newsroom.byline_links, the importer) set it, stamp_links keeps it.
        if self.published_at is None and self.article_id is not None:
            self.published_at = self.article.published_at
        super().save(*args, **kwargs)


class ImportedFile(models.Model):
    """A source file the importer has read, with the content hash it had.

    Kept per path, not per article: two files may hold the same story (a feed
    re-crawl), and each must count as unchanged until its own bytes change.
    """

    path = models.CharField(_("path"), max_length=1000, unique=True)
    content_hash = models.CharField(_("content hash"), max_length=64)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="source_files")
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("imported file")
        verbose_name_plural = _("imported files")

    def __str__(self) -> str:
        return self.path


class ArticleRedirect(models.Model):
    """An old article URL (day + slug) that now answers with a 301."""

    published_date = models.DateField()
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, allow_unicode=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="redirects")

    class Meta:
        verbose_name = _("former article address")
        verbose_name_plural = _("former article addresses")
        constraints = [
            models.UniqueConstraint(fields=["published_date", "slug"], name="articleredirect_unique_url"),
        ]

    def __str__(self) -> str:
        # The old address itself (the delete confirmation lists it), not "ArticleRedirect object (1)".
        day = self.published_date
        return reverse_cached("articles:article", year=day.year, month=day.month, day=day.day, slug=self.slug)


class HeadlineSlotQuerySet(models.QuerySet):
    def live(self) -> "HeadlineSlotQuerySet":
        """Placements showing now: started, not ended, their article published (the rule of `published()`)."""
        now = timezone.now()
        # The article's rule as a correlated EXISTS, not a join: with the join SQLite's planner
        # may start from the articles (all 100,000 published ones, 6 ms) and probe the few slots.
        published = Article.objects.published().filter(pk=models.OuterRef("article_id"))
        return (self.filter(models.Exists(published), starts_at__lte=now)
                .filter(models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=now)))


class HeadlineSlot(models.Model):
    """One placement of an article in the home page's 要闻 block: the lead (头条) or a secondary headline.

    Placements are history: a new one does not overwrite the one before. A new
    open-ended placement ends the open-ended ones of its position that started
    before it (at its own start), so each row says who placed what, from when
    until when. Of the placements live at a position, the one that started last
    shows; a placement with an end time covers the one before it until then.
    Every write changes only the pages that show slots (articles.content_keys.SLOT_KEYS),
    and a start or end time passing changes them by itself (no cron).
    """

    class Position(models.IntegerChoices):
        LEAD = 0, _("Lead story (头条)")
        SECOND = 1, _("Headline 2")
        THIRD = 2, _("Headline 3")
        FOURTH = 3, _("Headline 4")
        FIFTH = 4, _("Headline 5")

    position = models.PositiveSmallIntegerField(_("position"), choices=Position.choices)
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="headline_slots",
        help_text=_("Only a published article is shown; a draft or scheduled one shows once it is published."),
    )
    starts_at = models.DateTimeField(_("shown from"), default=timezone.now)
    ends_at = models.DateTimeField(
        _("shown until"), null=True, blank=True,
        help_text=_("Empty: until another placement replaces it. With a time: the placement it covers returns then."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)

    objects = HeadlineSlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("headline slot")
        verbose_name_plural = _("headline slots")
        ordering = ["position", "-starts_at", "-id"]
        indexes = [
            models.Index(fields=["ends_at", "starts_at"], name="headlineslot_live_idx"),
            models.Index(fields=["starts_at"], name="headlineslot_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="headlineslot_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_position_display()}: {self.article}"

    def save(self, *args, **kwargs) -> None:
        from articles import content_keys

        with content_keys.keys_write(content_keys.SLOT_KEYS):
            if self._state.adding and self.ends_at is None:
                HeadlineSlot.objects.filter(
                    position=self.position, ends_at__isnull=True, starts_at__lt=self.starts_at,
                ).update(ends_at=self.starts_at)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        from articles import content_keys

        with content_keys.keys_write(content_keys.SLOT_KEYS):
            return super().delete(*args, **kwargs)


class LegacyURL(models.Model):
    """An address an imported article had on its old site (a Hexo permalink), which answers with a 301.

    Written by the import (importing.load) from each post's old address
    (importing.hexo_site.old_path); served by articles.legacy_urls.
    """

    # Root-relative and percent-decoded, as Django's request.path is: /news/2014/06/14/hexo-2-7-released/
    path = models.CharField(max_length=1000, unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="legacy_urls")

    class Meta:
        verbose_name = _("old URL")
        verbose_name_plural = _("old URLs")

    def __str__(self) -> str:
        return self.path


def published_links(model: type[models.Model], article_field: str) -> models.QuerySet:
    """A link table's rows to published articles (the rule of `published()`, across the link),
    bounded by the link's indexed copy of the publication time."""
    return model.objects.filter(Article.published_q(f"{article_field}__"), published_at__lte=timezone.now())


def public_tags() -> models.QuerySet[Tag]:
    """Tags of at least one published article: the only ones with a public page, feed or API row."""
    links = TaggedArticle.objects.filter(Article.published_q("content_object__"), tag=models.OuterRef("pk"))
    return Tag.objects.filter(models.Exists(links))


def record_url_changes(articles: Iterable[Article]) -> None:
    """Keep each changed article's previous URL working, as a redirect."""
    for article in articles:
        loaded = getattr(article, "_loaded_url_key", None)
        current = (article.published_date, article.slug)
        if loaded and loaded != current:
            ArticleRedirect.objects.update_or_create(
                published_date=loaded[0], slug=loaded[1], defaults={"article": article}
            )
            # The new URL must not be shadowed by an older redirect of the same address.
            ArticleRedirect.objects.filter(published_date=current[0], slug=current[1]).delete()
        article._loaded_url_key = current


def link_ancestors(article: Article) -> None:
    """Link `article` to every ancestor of its categories, as Hexo does.

    Listings of a category then need only that category's own links to cover
    its whole subtree.
    """
    paths = set(article.categories.values_list("path", flat=True))
    wanted = {prefix for path in paths for prefix in path_prefixes(path)}
    missing = Category.objects.filter(path__in=wanted - paths)
    if missing:
        article.categories.add(*missing)


def stamp_links(article: Article) -> None:
    """Copy the article's publication time onto its category, tag and byline links.

    See ArticleCategory, TaggedArticle and ArticleByline: the listings read the copy.
    """
    for links in (ArticleCategory.objects.filter(article=article),
                  TaggedArticle.objects.filter(content_object=article),
                  ArticleByline.objects.filter(article=article)):
        links.exclude(published_at=article.published_at).update(published_at=article.published_at)


def sync_category_links(article: Article) -> None:
    """After links were made by any means: stamp them, and link the ancestors."""
    stamp_links(article)
    link_ancestors(article)


def sync_added_category_links(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Links made through `categories.add()`/`set()` get the time and the ancestors too."""
    if action != "post_add":
        return
    for article in Article.objects.filter(pk__in=pk_set) if reverse else [instance]:
        sync_category_links(article)


class ImportRun(models.Model):
    """One run of the importer, from the command line or the admin's upload page.

    Created as "running" before the first file is read and finished afterwards,
    so a run that crashed part-way is never mistaken for a successful one (see
    importing.runs, which writes these). An upload's run is created "queued"
    by the request and run by a task worker (importing.tasks).
    """

    class Origin(models.TextChoices):
        COMMAND = "command", _("command line")
        UPLOAD = "upload", _("upload")

    class Status(models.TextChoices):
        # An upload stored and waiting for a task worker (importing.tasks).
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        WITH_ERRORS = "with_errors", _("finished with file errors")
        FAILED = "failed", _("failed")
        # Stopped with Ctrl-C, or its process ended (killed, the machine restarted) before it could record anything.
        INTERRUPTED = "interrupted", _("interrupted")

    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="import_runs",
        help_text=_("The staff user who uploaded the files; empty for command-line runs."),
    )
    # Command-line runs have no Django user: who ran them is the OS account.
    system_user = models.CharField(
        _("system user"), max_length=200, blank=True, help_text=_("user@host of a command-line run."))
    # The process running the import, so a run whose process died (SIGKILL, a
    # restart) can be told from one still at work (importing.runs).
    host = models.CharField(_("host"), max_length=255, blank=True,
                            help_text=_("The machine (host name) whose process ran the import."))
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    # The process's start time (/proc/<pid>/stat, clock ticks after boot): a
    # pid reused by a later process has another. None where there is no /proc.
    process_started = models.BigIntegerField(_("process start"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    # The paths given on the command line, or the uploaded files' names.
    sources = models.JSONField(_("source"), default=list)
    dry_run = models.BooleanField(_("dry run"), default=False)
    overwrite_edited = models.BooleanField(_("overwrite edited"), default=False)
    time_zone = models.CharField(_("time zone"), max_length=64)
    # Counts of files: "created" here is a number (新建), not the time an article's
    # `created_at` names with the same English word (创建时间); hence the context.
    created = models.PositiveIntegerField(pgettext_lazy("import count", "created"), default=0)
    updated = models.PositiveIntegerField(pgettext_lazy("import count", "updated"), default=0)
    unchanged = models.PositiveIntegerField(pgettext_lazy("import count", "unchanged"), default=0)
    kept_local_edits = models.PositiveIntegerField(pgettext_lazy("import count", "kept local edits"), default=0)
    failed = models.PositiveIntegerField(pgettext_lazy("import count", "failed"), default=0)
    # One line per file that failed: "<file>: <field>: <problem>".
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # One line per file that imported but with something guessed ("<file>: date is missing: …").
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    # Files in uploaded archives that are not posts, not imported.
    ignored = models.JSONField(_("ignored files"), default=list, blank=True)
    # Progress while running, written once per batch (importing.service): files done of files found.
    files_total = models.PositiveIntegerField(_("files"), null=True, blank=True)
    files_done = models.PositiveIntegerField(_("files done"), default=0)
    # The task importing an upload (importing.tasks), so a task that failed for good shows on its run.
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    # The ids of the articles the run created or updated (at most WRITTEN_KEPT, in the order
    # written), so the run's page links to them; created or updated is told by the article's
    # own creation time against the run's start (editorial.import_admin).
    written = models.JSONField(_("articles written"), default=list, blank=True)

    WRITTEN_KEPT = 500

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"
        permissions = [("upload_importrun", _("Can import articles by uploading files"))]

    def __str__(self) -> str:
        return f"{self.get_origin_display()} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M:%S}"

    @property
    def in_progress(self) -> bool:
        """Queued or running: its page keeps refreshing."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def who(self) -> str:
        if self.user_id is not None:
            return self.user.get_username()
        return self.system_user or "—"

    @property
    def source_display(self) -> str:
        return ", ".join(self.sources)


def stamp_added_tags(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Tags added through `tags.add()`/`set()` (the admin's tag field too) get the time."""
    if action == "post_add" and not reverse:
        stamp_links(instance)


class ContentVersion(models.Model):
    """One row: the generation of the public content (see articles.content_version).

    Bumped inside every transaction that writes articles, categories, authors,
    tags or their links, so cached pages keyed by it are never stale.
    """

    generation = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("content version")
        verbose_name_plural = _("content versions")


class ContentKey(models.Model):
    """What one write changed, per key (see articles.content_keys).

    A key names something pages show (`a:12`, `home`, `channel:3`, …, `*` for
    everything); its generation is the content generation of the last write
    that changed it, written in that write's transaction.
    """

    key = models.CharField(max_length=200, primary_key=True)
    generation = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = _("content key")
        verbose_name_plural = _("content keys")


class KeywordTerm(models.Model):
    """The keyword suggester's domain dictionary and stop list, kept by editors.

    Market terms and company names are segmented as one word and preferred as
    tags; stop words are never suggested. They add to the lists shipped in
    newsroom/data/keywords/ (see newsroom.keywords).
    """

    class Kind(models.TextChoices):
        TERM = "term", _("market term")
        COMPANY = "company", _("company name")
        STOP = "stop", _("stop word")

    word = models.CharField(_("word"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TERM)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("keyword dictionary entry")
        verbose_name_plural = _("keyword dictionary")
        ordering = ["kind", "word"]

    def __str__(self) -> str:
        return self.word

    def save(self, *args, **kwargs) -> None:
        self.word = self.word.strip()
        super().save(*args, **kwargs)


class TagSuggestion(models.Model):
    """A keyword tag suggested for an article, kept apart from its tags until an editor accepts it."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="tag_suggestions")
    name = models.CharField(_("tag"), max_length=100)
    score = models.FloatField(_("score"), default=0.0)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("suggested"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = _("tag suggestion")
        verbose_name_plural = _("tag suggestions")
        ordering = ["article", "-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "name"], name="tagsuggestion_unique_name"),
        ]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="tagsuggestion_state_idx"),
            # Related articles look up the articles suggested a keyword (articles.related).
            models.Index(fields=["name", "state"], name="tagsuggestion_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ArticleHits(models.Model):
    """How many times readers opened a published article in one hour (articles.hot).

    The reading beacon counts in the cache; a flush adds the counts here in
    batches, one row per article and hour, so "the last 24 hours" is a sum
    over the rows of the hours since. Bookkeeping, not content: writing it
    changes no page but the hot lists (the `hot` content key).
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="hits")
    hour = models.DateTimeField(_("hour"))  # the hour's start, UTC
    count = models.PositiveIntegerField(_("reads"), default=0)

    class Meta:
        verbose_name = _("article reads per hour")
        verbose_name_plural = _("article reads per hour")
        constraints = [models.UniqueConstraint(fields=["article", "hour"], name="articlehits_article_hour")]
        indexes = [models.Index(fields=["hour", "article"], name="articlehits_hour_article")]
