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
(``published: false``), and times are written to the second, in UTC (or, for
a whole site, ``--site``, as wall-clock times in the site's time zone).

An excerpt given at import (``Article.excerpt_explicit``) stays given: one
from ``<!-- more -->`` gets the marker back in the body (``post_text``). With
``--site``, the images the import stored from post asset folders are written
into each post's asset folder again (``export_assets``).

Hexo must build what is written: ``disableNunjucks`` where a body has
template syntax, and bodies that Markdown renderers pass through as HTML
(``hexo_body``). docs/HEXO.md ("Export") says what Hexo does and why.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import html
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Iterable

import yaml
from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from importing import parse
from importing.assets import STORAGE_DIR, asset_folder, rewrite_links
from importing.derive import derive_from_body, excerpt_before_more
from importing.hexo_site import SiteConfigError, read_site
from articles.sanitize import html_to_text, sanitize_body
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
    """A post file: the front matter, then the stored body written as `hexo_body` (one block of
    HTML, so neither Hexo's renderer nor our importer reads any of it as Markdown)."""
    return f"---\n{dump_front_matter(meta)}---\n{hexo_body(body)}\n"


# --- one article ----------------------------------------------------------------------------------


def hexo_date(moment: dt.datetime) -> str:
    """RFC 2822 in UTC, as the feeds' posts carry it: Sat, 30 Apr 2022 01:33:09 GMT."""
    return format_datetime(moment.astimezone(dt.timezone.utc).replace(microsecond=0), usegmt=True)


def local_date(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The wall-clock time in the site's time zone, naive, to the second: `2022-04-30 09:33:09` in YAML.

    The one form Hexo reads as the right instant on every host: it takes a
    date without an offset as the wall-clock time in its `timezone`, but
    shifts a date with one (RFC 2822, ISO 8601 with an offset) by the
    difference between the host's offset and the site's.
    """
    return moment.astimezone(tz).replace(microsecond=0, tzinfo=None)


# --- bodies Markdown leaves alone -------------------------------------------------------------------

# Tags that open a CommonMark (and marked) HTML block of type 6, which runs to the
# first blank line: those of them our sanitiser keeps. <pre> is not one (its block
# ends at </pre>, and what follows is read as Markdown again).
_HTML_BLOCK_START = re.compile(
    r" {0,3}</?(?:p|h[1-6]|blockquote|ul|ol|li|dl|dt|dd|table|caption|colgroup|col|thead|tbody|tfoot"
    r"|tr|th|td|figure|figcaption|hr)(?:[ \t/>]|$)",
    re.IGNORECASE,
)
# A tag as the sanitiser writes it, quoted values (which may hold `>` and new lines) included.
_TAG_TOKEN = re.compile(r"""<!--.*?-->|<[A-Za-z/!?][^"'>]*(?:(?:"[^"]*"|'[^']*')[^"'>]*)*>""", re.S)
_ATTRIBUTE_VALUE = re.compile(r""""[^"]*"|'[^']*'""")
# Hexo's backtick_code_block filter takes such a line for a code fence, even inside HTML.
_FENCE = re.compile(r"(?:[-*+]|[0-9]+\.)?[^\S\r\n]*(?=`{3}|~{3})")
_LEADING_SPACE_ENTITY = {" ": "&#32;", "\t": "&#9;"}
_FENCE_ENTITY = {"`": "&#96;", "~": "&#126;"}
NUNJUCKS_MARKERS = ("{{", "{%", "{#")
# Not kept by the sanitiser (articles.sanitize), so a body wrapped in it imports back unwrapped.
_WRAPPER = ("<div>\n", "\n</div>")


def _line_starts_in_markup(body: str) -> set[int]:
    """Offsets of line starts inside a tag but outside its quoted values (where no entity may go)."""
    inside: set[int] = set()
    for tag in _TAG_TOKEN.finditer(body):
        if "\n" not in tag[0]:
            continue
        values = [(v.start() + tag.start(), v.end() + tag.start()) for v in _ATTRIBUTE_VALUE.finditer(tag[0])]
        for i in range(tag.start(), tag.end()):
            if body[i] == "\n" and not any(a <= i < b for a, b in values):
                inside.add(i + 1)
    return inside


def hexo_body(body: str) -> str:
    """`body` written so that Markdown renderers pass it through as one block of HTML.

    A Markdown renderer (Hexo's hexo-renderer-marked, markdown-it, any
    CommonMark one) reads a line indented by four spaces or a tab as code,
    ends a block of HTML at a blank line and reads what follows as Markdown,
    and Hexo's own filter reads a line starting with three backticks as a code
    fence. So, outside tags:

    * a line's first space or tab is written as a character reference
      (`&#32;`, `&#9;`): no line is indented, and none is blank;
    * an empty line is joined to the next by writing its line break as `&#10;`;
    * a code fence's first backtick or tilde is written as `&#96;`/`&#126;`;
    * a body that does not begin with a tag that opens an HTML block (text,
      an image, <pre>) is wrapped in a <div>.

    Every change is one an HTML parser undoes: the page Hexo builds shows the
    same text, and importing the post back (through the sanitiser, which
    decodes character references and drops the <div>) gives the same body.
    """
    if not body:
        return body
    keep = _line_starts_in_markup(body)
    out: list[str] = []
    lines = body.split("\n")
    offset = 0
    for index, line in enumerate(lines):
        start, offset = offset, offset + len(line) + 1
        last = index == len(lines) - 1
        if start in keep:
            out.append(line + ("" if last else "\n"))
            continue
        if line == "" and not last:
            out.append("&#10;")  # this empty line and its line break, joined to the next line
            continue
        if line[:1] in _LEADING_SPACE_ENTITY:
            line = _LEADING_SPACE_ENTITY[line[0]] + line[1:]
        elif fence := _FENCE.match(line):
            at = fence.end()
            line = line[:at] + _FENCE_ENTITY[line[at]] + line[at + 1:]
        out.append(line + ("" if last else "\n"))
    text = "".join(out)
    if not _HTML_BLOCK_START.match(text):
        text = _WRAPPER[0] + text + _WRAPPER[1]
    return text


def needs_nunjucks_off(body: str) -> bool:
    """Whether Hexo would read part of `body` as a Nunjucks tag (and refuse to build the site)."""
    return any(marker in body for marker in NUNJUCKS_MARKERS)


def category_chains(linked_paths: Iterable[str], names: dict[str, str]) -> list[list[str]]:
    """The chains an article's links stand for: one per leaf (a linked node with no linked child)."""
    paths = set(linked_paths)
    leaves = sorted(p for p in paths if not any(q.startswith(p + "/") for q in paths))
    return [[names[prefix] for prefix in path_prefixes(leaf)] for leaf in leaves]


def front_matter(article: Article, *, chains: list[list[str]], tags: list[str],
                 bylines: list[tuple[str, str]], tz: dt.tzinfo | None = None) -> dict[str, Any]:
    """The post's front matter. Dates in RFC 2822 (UTC), or with `tz` as wall-clock times in that zone."""
    def when(moment: dt.datetime) -> str | dt.datetime:
        return hexo_date(moment) if tz is None else local_date(moment, tz)

    meta: dict[str, Any] = {"title": article.title, "date": when(article.published_at)}
    if article.updated_at:
        meta["updated"] = when(article.updated_at)
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
    if needs_nunjucks_off(article.body):
        meta["disableNunjucks"] = True  # Hexo would read `{{ … }}` or `{% … %}` as its own tags
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
    as_read = {key: parse.YAMLTimestamp(value.isoformat(sep=" ")) if isinstance(value, dt.datetime) else value
               for key, value in meta.items()}  # an unquoted date is read as its text
    return parse.import_key(as_read, article.author.name if article.author_id else "", article.title)


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


# --- excerpts ------------------------------------------------------------------------------------------

MORE = "<!-- more -->"
# Places tried once the text before them is as long as the excerpt: tags and spaces that add
# none; a body with more of them there (a pathological one) gets `excerpt:` instead.
_MAX_MORE_TRIES = 1000
# A token of sanitised HTML: a tag (quoted values may hold `>`), a character reference, or one character.
_HTML_TOKEN = re.compile(r"""<[A-Za-z/!?][^"'>]*(?:(?:"[^"]*"|'[^']*')[^"'>]*)*>|&#?[A-Za-z0-9]+;|.""", re.S)


def needs_excerpt(article: Article) -> bool:
    """Whether the post must say what its excerpt is: one given at import that its front matter no longer holds.

    An excerpt from the front matter (`excerpt`, `description`) is exported
    with the other front matter kept at import; one taken from the body
    before `<!-- more -->` is not, since the sanitiser dropped the marker.
    """
    if not article.excerpt_explicit:
        return False
    try:
        return parse.parse_excerpt(article.extra_front_matter or {}) is None
    except ValueError:
        return True  # an `excerpt` made unreadable in the admin: the one stored is written instead


def with_more_marker(body: str, excerpt: str) -> str | None:
    """`body` with Hexo's `<!-- more -->` where the text before it is `excerpt`; None if there is no such place.

    The first place whose text is the excerpt, moved past the closing tags
    that follow it (so the excerpt ends with its paragraph, not inside it).
    Only a candidate; `export_articles` checks that the written post imports
    with this excerpt.
    """
    if not excerpt:
        return None
    ends = [token.end() for token in _HTML_TOKEN.finditer(body)]

    def text_length(end: int) -> int:
        return len(html_to_text(body[:end]))

    # The text before a place only grows as the place moves on: the first place with enough
    # text is found by bisection, and only the places with the same text length are tried.
    first = bisect.bisect_left(ends, len(excerpt), key=text_length)
    for offset in ends[first:first + _MAX_MORE_TRIES]:
        text = html_to_text(body[:offset])
        if text == excerpt:
            break
        if len(text) > len(excerpt):
            return None
    else:
        return None
    while (closing := _HTML_TOKEN.match(body, offset)) and closing[0].startswith("</"):
        offset = closing.end()
    return body[:offset] + MORE + body[offset:]


def excerpt_on_import(text: str, title: str) -> str:
    """The excerpt the importer gives the post file `text` (parse, sanitise, derive, as its pipeline does)."""
    parsed = parse.parse_bytes(text.encode("utf-8"), path="export.md", tz=dt.timezone.utc)
    given = parsed.excerpt if parsed.excerpt is not None else excerpt_before_more(parsed.body)
    return derive_from_body(title, sanitize_body(parsed.body), excerpt_html=given).excerpt


def post_text(article: Article, meta: dict[str, Any], body: str) -> str:
    """The post file: `render_post`, with the article's given excerpt kept where it must be said.

    Hexo's own way first, `<!-- more -->` in the body, which Hexo and the
    importer both read as the excerpt and which leaves the front matter as
    it was imported. Where no place in the body gives the excerpt (the body
    was edited after import), the front matter's `excerpt`, as HTML text.
    """
    if not needs_excerpt(article):
        return render_post(meta, body)
    marked = with_more_marker(body, article.excerpt)
    if marked is not None:
        text = render_post(meta, marked)
        try:
            if excerpt_on_import(text, article.title) == article.excerpt:
                return text
        except (parse.ImportFileError, ValueError):
            pass  # its front matter, as edited in the admin, no longer imports: say the excerpt there
    # Escaped: Hexo's themes print `excerpt` as HTML, and the importer reads it as HTML too.
    return render_post({**meta, "excerpt": html.escape(article.excerpt, quote=False)}, body)


# --- asset folders (--site) ----------------------------------------------------------------------------

# The content-addressed name the importer stores an asset folder's image under (importing.assets.storage_name).
_STORED_ASSET = re.compile(rf"{STORAGE_DIR}/[0-9a-f]{{2}}/[0-9a-f]{{64}}\.(png|jpg|gif|webp)")


def stored_asset_name(url: str, media_url: str) -> str | None:
    """The storage name of an image the importer stored, if `url` is one (`/media/hexo-assets/ab/ab….png`)."""
    if not url.startswith(media_url):
        return None
    name = url[len(media_url):]
    return name if _STORED_ASSET.fullmatch(name) else None


def export_assets(body: str, folder: Path, *, post: str, report: ExportReport,
                  storage: Storage | None = None, media_url: str | None = None) -> str:
    """Copy the stored images `body` shows into the post's asset `folder`; the body pointing at them there.

    Each gets a readable name in order of first use (`image-1.png`,
    `image-2.jpg`; the name it had in its first folder is not kept), and
    each `src`/`href` naming it becomes that relative name, which Hexo (with
    `post_asset_folder: true`) serves beside the post's page and the importer
    resolves to the same stored file again. A file the storage no longer has
    is a warning naming `post` and the file; its links stay as they were.
    Absolute URLs and other media are left alone.
    """
    storage = storage or default_storage
    media_url = media_url if media_url is not None else settings.MEDIA_URL
    names: dict[str, str | None] = {}  # storage name → its name in the folder; None: not in the storage

    def replace(kind: str, url: str) -> str | None:
        stored = stored_asset_name(url, media_url)
        if stored is None:
            return None
        if stored not in names:
            names[stored] = _copy_asset(stored, folder, len(names) + 1, storage, post=post, report=report)
        return names[stored]

    return rewrite_links(body, replace)


def _copy_asset(stored: str, folder: Path, number: int, storage: Storage, *, post: str,
                report: ExportReport) -> str | None:
    name = f"image-{number}.{stored.rsplit('.', 1)[1]}"
    try:
        with storage.open(stored, "rb") as stream:
            data = stream.read()
    except Exception as exc:  # noqa: BLE001 — any storage backend's failure is one file's warning
        reason = "not in the media storage" if isinstance(exc, FileNotFoundError) else f"{type(exc).__name__}: {exc}"
        report.warnings.append(f"{post}: image {stored} ({reason}): its link is left as it was")
        return None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    report.assets += 1
    return name


# --- the whole export ------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    keys_given: int = 0
    drafts: int = 0  # of `written`: not published (in source/_drafts/ of a site)
    site_files: list[Path] = field(default_factory=list)  # _config.yml, package.json written
    site_files_kept: list[Path] = field(default_factory=list)  # already there: left as they were
    assets: int = 0  # image files copied into posts' asset folders (--site)
    warnings: list[str] = field(default_factory=list)  # one line each, naming the post and what is wrong


def selection(*, category: Category | None = None, since: dt.date | None = None) -> QuerySet[Article]:
    """The articles to export, every status, oldest first."""
    articles = Article.objects.all()
    if category is not None:
        articles = articles.filter(categories=category)  # linked to every node: the whole subtree
    if since is not None:
        articles = articles.filter(published_date__gte=since)
    return articles.order_by("published_at", "id")


def export_articles(articles: QuerySet[Article], out_dir: str | os.PathLike, *, chunk_size: int = 500,
                    site: bool = False) -> ExportReport:
    """Write each of `articles` to `out_dir` as a Hexo post; returns the files written.

    With `site`, `out_dir` becomes a Hexo site that `hexo generate` builds
    (`write_site_files`): published posts in `source/_posts/`, the others in
    `source/_drafts/`, dates as wall-clock times in the site's time zone, and
    the images stored at import in each post's asset folder (`export_assets`).
    """
    root = Path(out_dir)
    report = ExportReport()
    tz = None
    if site:
        tz = timezone.get_default_timezone()
        posts, drafts = root / "source" / "_posts", root / "source" / "_drafts"
        for folder in (posts, drafts):
            folder.mkdir(parents=True, exist_ok=True)
        write_site_files(root, report)
    else:
        posts = drafts = root
        root.mkdir(parents=True, exist_ok=True)
    names = dict(Category.objects.values_list("path", "name"))
    taken: dict[Path, set[str]] = {posts: set(), drafts: set()}
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
            tz=tz,
        )
        published = article.status == Article.Status.PUBLISHED
        folder = posts if published else drafts
        name = post_filename(article)
        # Case-insensitive, normalising file systems (Windows, macOS) would merge these.
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in taken[folder]:
            name = safe_filename(f"{article.published_date:%Y-%m-%d}-{article.slug}-{article.pk}")
            folded = name.casefold()
        taken[folder].add(folded)
        if site and published and name != f"{article.published_date:%Y-%m-%d}-{article.slug}.md" \
                and "permalink" not in meta:
            # Hexo takes :title from the file name, which had to differ from the slug.
            meta["permalink"] = f"{article.published_date:%Y/%m/%d}/{article.slug}/"
            if article.import_key and "import_key" not in meta and _key_of(meta, article) != article.import_key:
                meta["import_key"] = article.import_key  # a permalink is the importer's identity
        if not article.import_key:
            give_import_key(article, meta)
            report.keys_given += 1
        path = folder / name
        body = article.body
        if site:
            body = export_assets(body, asset_folder(path), post=f"{path} ({article.title})", report=report)
        path.write_text(post_text(article, meta, body), encoding="utf-8")
        report.written.append(path)
        report.drafts += not published
    if site and report.assets and not _reads_asset_folders(root):
        report.warnings.append(f"{root / '_config.yml'}: the site's own, kept, lacks `post_asset_folder: true`: "
                               "Hexo and import_articles will not read the posts' asset folders")
    return report


# --- a whole Hexo site ------------------------------------------------------------------------------------

# The versions `export_articles --site` pins in the site's package.json: those
# tests/hexo/package-lock.json builds the exported site with in the tests.
HEXO_VERSION = "8.1.2"
HEXO_CLI_VERSION = "4.3.2"
HEXO_RENDERER_MARKED_VERSION = "7.0.1"

# Our article URLs (articles.urls: <year>/<month>/<day>/<slug>/) in Hexo's terms;
# :title is the part of the file name after the date, which is the slug.
PERMALINK = ":year/:month/:day/:title/"
NEW_POST_NAME = ":year-:month-:day-:title.md"


def site_config() -> dict[str, Any]:
    """The site's _config.yml: our time zone, our URLs, nothing a default already says."""
    return {
        "title": settings.NEWSPORTAL_SITE_NAME,
        "language": "zh-CN",
        "timezone": settings.TIME_ZONE,
        "url": "http://example.com",
        "permalink": PERMALINK,
        "new_post_name": NEW_POST_NAME,
        # Images stored at import are written into each post's folder (`export_assets`).
        "post_asset_folder": True,
    }


def _reads_asset_folders(root: Path) -> bool:
    """Whether the site's `_config.yml` (ours, or its own that was kept) says `post_asset_folder: true`."""
    try:
        return read_site(root).post_asset_folder
    except SiteConfigError:
        return False  # a site that cannot be read reads no asset folders either


def site_package() -> dict[str, Any]:
    """The site's package.json: Hexo, its command line and its Markdown renderer, pinned."""
    # Hexo writes a post's :year/:month/:day in the host's time zone, so the build runs in the site's.
    run_in_zone = f"TZ={settings.TIME_ZONE} "
    return {
        "name": "newsportal-export",
        "version": "0.0.0",
        "private": True,
        "scripts": {"build": run_in_zone + "hexo generate", "server": run_in_zone + "hexo server",
                    "clean": "hexo clean"},
        "hexo": {"version": HEXO_VERSION},
        "dependencies": {
            "hexo": HEXO_VERSION,
            "hexo-cli": HEXO_CLI_VERSION,
            "hexo-renderer-marked": HEXO_RENDERER_MARKED_VERSION,
        },
    }


def write_site_files(root: Path, report: ExportReport) -> None:
    """_config.yml and package.json, unless the site already has its own (kept as they are)."""
    config = ("# Written by newsportal's `manage.py export_articles --site`. Set `url` to the site's address.\n"
              + dump_front_matter(site_config()))
    package = json.dumps(site_package(), ensure_ascii=False, indent=2) + "\n"
    for name, text in (("_config.yml", config), ("package.json", package)):
        path = root / name
        if path.exists():
            report.site_files_kept.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            report.site_files.append(path)
