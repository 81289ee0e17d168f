"""Write articles back out as Hexo posts: YAML front matter and the body.

The export is the importer's inverse: importing an exported archive into an
empty database gives the same articles (title, slug, body, time, status,
author, bylines, categories, tags, images, comments, the other front matter
kept at import, and the import key), and importing it into the database it
came from creates nothing. So it writes, beside Hexo's own fields:

* ``slug`` — the article's URL name (Hexo takes it from the file name,
  which is the same slug with the day in front);
* ``bylines`` — only where an editor corrected them (otherwise the importer
  detects the same ones from the dateline again);
* ``import_key`` — only where the key cannot be worked out again from the
  exported fields (a naive date read in another zone at import, or an
  article written in the admin, which the export gives a key).

What Hexo has no place for is not kept: "in review" is exported as a draft
(``published: false``), and times are written to the second, in UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Iterable

import yaml
from django.db.models import Prefetch, QuerySet

from importing import parse
from importing.markdown import is_html_body
from articles.models import Article, ArticleByline, Category, path_prefixes

MAX_NAME_BYTES = 200  # well under the 255 bytes of ext4, APFS and NTFS names
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)
_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


# --- YAML ---------------------------------------------------------------------------------------


class _HexoDumper(yaml.SafeDumper):
    """safe_dump, no aliases, and strings quoted wherever either reader would take them for another type.

    PyYAML quotes what YAML 1.1 would read as a number or a boolean; the
    importer (and Hexo's js-yaml) read YAML 1.2, which differs at the edges
    (``1.5e3`` is a float in 1.2 only), so the importer's own patterns are
    added too.
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True


for _first, _items in parse._FastLoader.yaml_implicit_resolvers.items():
    for _tag, _regexp in _items:
        if _tag in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            _HexoDumper.add_implicit_resolver(_tag, _regexp, [_first])


def dump_front_matter(meta: dict[str, Any]) -> str:
    return yaml.dump(meta, Dumper=_HexoDumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=1_000_000)


def render_post(meta: dict[str, Any], body: str) -> str:
    if body and not is_html_body(body):
        # A stored body is HTML, but one that does not open with a block tag
        # (text and <br> lines) would be read back as Markdown: a <div>, which
        # the sanitiser removes again, marks it as HTML (importing.markdown).
        body = f"<div>\n{body}\n</div>"
    return f"---\n{dump_front_matter(meta)}---\n{body}\n"


# --- one article ----------------------------------------------------------------------------------


def hexo_date(moment: dt.datetime) -> str:
    """RFC 2822 in UTC, as the feeds' posts carry it: Sat, 30 Apr 2022 01:33:09 GMT."""
    return format_datetime(moment.astimezone(dt.timezone.utc).replace(microsecond=0), usegmt=True)


def category_chains(linked_paths: Iterable[str], names: dict[str, str]) -> list[list[str]]:
    """The chains an article's links stand for: one per leaf (a linked node with no linked child)."""
    paths = set(linked_paths)
    leaves = sorted(p for p in paths if not any(q.startswith(p + "/") for q in paths))
    return [[names[prefix] for prefix in path_prefixes(leaf)] for leaf in leaves]


def front_matter(article: Article, *, chains: list[list[str]], tags: list[str],
                 bylines: list[tuple[str, str]]) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": article.title, "date": hexo_date(article.published_at)}
    if len(chains) == 1:
        meta["categories"] = chains[0]  # Hexo: a flat list is one chain
    elif chains:
        meta["categories"] = chains  # several chains: a list of lists
    if tags:
        meta["tags"] = tags
    if article.author_id:
        meta["author"] = article.author.name
    if article.bylines_edited:
        meta["bylines"] = [f"{role} {name}" for role, name in bylines]
    if article.head_image:
        meta["headimg"] = article.head_image
    if article.thumbnail:
        meta["thumbnail"] = article.thumbnail
    meta["comments"] = article.comments_enabled
    if article.status != Article.Status.PUBLISHED:
        meta["published"] = False
    meta["slug"] = article.slug
    for key, value in (article.extra_front_matter or {}).items():
        if key not in parse.KNOWN_FIELDS:
            meta[key] = value
    if article.import_key and _key_of(meta, article) != article.import_key:
        meta["import_key"] = article.import_key
    return meta


def _key_of(meta: dict[str, Any], article: Article) -> str:
    """The import key the importer will give a file with this front matter."""
    return parse.import_key(meta, article.author.name if article.author_id else "", article.title)


def give_import_key(article: Article, meta: dict[str, Any]) -> None:
    """An article written in the admin gets the key its exported file will carry.

    Importing the export back into this database then finds the article
    instead of copying it.
    """
    key = _key_of(meta, article)
    if Article.objects.filter(import_key=key).exclude(pk=article.pk).exists():
        # Another article already is that story (same author, title and time): an own key.
        key = hashlib.sha256(f"newsportal-article\0{article.pk}".encode()).hexdigest()
        meta["import_key"] = key
    Article.objects.filter(pk=article.pk, import_key__isnull=True).update(import_key=key)
    article.import_key = key


# --- file names --------------------------------------------------------------------------------------


def safe_filename(stem: str, suffix: str = ".md", max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name every OS accepts: no reserved characters or names, NFC, at most `max_bytes`.

    A name that had to be shortened ends with a hash of the full one, so two
    long names that share a beginning stay apart.
    """
    original = unicodedata.normalize("NFC", stem)
    name = _UNSAFE_CHARS.sub("_", original)
    name = "".join("_" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") else c for c in name)
    name = name.strip(" .") or "post"
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = "_" + name
    if len((name + suffix).encode()) > max_bytes:
        tag = "-" + hashlib.sha1(original.encode()).hexdigest()[:10]
        budget = max_bytes - len((tag + suffix).encode())
        while len(name.encode()) > budget:
            name = name[:-1]
        name = name.rstrip(" .") + tag
    return name + suffix


def post_filename(article: Article) -> str:
    """Hexo's `:year-:month-:day-:title.md`, from the day and the slug (unique per day)."""
    return safe_filename(f"{article.published_date:%Y-%m-%d}-{article.slug}")


# --- the whole export ------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    keys_given: int = 0


def selection(*, category: Category | None = None, since: dt.date | None = None) -> QuerySet[Article]:
    """The articles to export, every status, oldest first."""
    articles = Article.objects.all()
    if category is not None:
        articles = articles.filter(categories=category)  # linked to every node: the whole subtree
    if since is not None:
        articles = articles.filter(published_date__gte=since)
    return articles.order_by("published_at", "id")


def export_articles(articles: QuerySet[Article], out_dir: str | os.PathLike, *, chunk_size: int = 500) -> ExportReport:
    """Write each of `articles` to `out_dir` as a Hexo post; returns the files written."""
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    names = dict(Category.objects.values_list("path", "name"))
    report = ExportReport()
    taken: set[str] = set()
    queryset = articles.select_related("author").prefetch_related(
        Prefetch("categories", queryset=Category.objects.only("id", "path")),
        "tags",
        Prefetch("byline_links", queryset=ArticleByline.objects.select_related("author").order_by("position", "id")),
    )
    for article in queryset.iterator(chunk_size=chunk_size):
        meta = front_matter(
            article,
            chains=category_chains((c.path for c in article.categories.all()), names),
            tags=sorted((t.name for t in article.tags.all()), key=str.casefold),
            bylines=[(link.role, link.author.name) for link in article.byline_links.all()],
        )
        if not article.import_key:
            give_import_key(article, meta)
            report.keys_given += 1
        name = post_filename(article)
        # Case-insensitive, normalising file systems (Windows, macOS) would merge these.
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in taken:
            name = safe_filename(f"{article.published_date:%Y-%m-%d}-{article.slug}-{article.pk}")
            folded = name.casefold()
        taken.add(folded)
        path = root / name
        path.write_text(render_post(meta, article.body), encoding="utf-8")
        report.written.append(path)
    return report
