"""A Hexo site read from its root: its `_config.yml`, where its posts sit, and their old URLs.

`import_articles PATH` treats a folder holding a `_config.yml` as a Hexo
site (`is_site_root`): it imports `source/_posts/` (published) and
`source/_drafts/` (drafts, never public) with the site's settings
(`read_site`). A post's file name and place in the site say what its front
matter may not (`SitePost`): its date and slug through `new_post_name`
(`file_name_fields`), whether it is a draft, and the address it had
(`old_path`, from the site's `permalink` pattern or the post's own).

Hexo's own code is the reference (hexo/dist/plugins/processor/post.js,
plugins/filter/post_permalink.js, hexo-util's Permalink and slugize); where
this reads differently, docs/HEXO.md says so and why.

Pure Python, no Django: it runs in the import's worker processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Mapping

import yaml

from importing.markdown import HEXO_DEFAULTS, MarkedOptions, hexo_slug

SITE_CONFIG = "_config.yml"
POSTS_DIR = "_posts"
DRAFTS_DIR = "_drafts"
POST_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
MAX_CONFIG_BYTES = 1024 * 1024

# Hexo's defaults (hexo/dist/hexo/default_config.js) for the settings read here.
DEFAULT_PERMALINK = ":year/:month/:day/:title/"
DEFAULT_NEW_POST_NAME = ":title.md"
DEFAULT_CATEGORY = "uncategorized"

# A permalink or file-name variable: hexo-util's Permalink `rParam`, /:(\w*[^_\W])/.
_PARAM = re.compile(r":(\w*[^_\W])")
# What the file-name variables match (hexo's processor/post.js parseFilename); others match `(.+?)`.
_NAME_SEGMENTS = {
    "year": r"(\d{4})", "month": r"(\d{2})", "day": r"(\d{2})",
    "i_month": r"(\d{1,2})", "i_day": r"(\d{1,2})", "hash": r"([0-9a-f]{12})",
}


class SiteConfigError(ValueError):
    """A site's `_config.yml` cannot be used: names the file and, where there is one, the setting."""

    def __init__(self, path: str, message: str, setting: str | None = None) -> None:
        self.path, self.message, self.setting = path, message, setting
        super().__init__(f"{path}: {setting + ' ' if setting else ''}{message}")


@dataclass(frozen=True)
class HexoSite:
    """The settings of a Hexo site that change what its posts import as."""

    root: str  # the folder holding _config.yml, absolute
    source_dir: str = "source"
    timezone: str | None = None  # None: the importer's default time zone
    url_root: str = "/"  # `root`: where the site was served, e.g. /blog/
    permalink: str = DEFAULT_PERMALINK
    permalink_defaults: tuple[tuple[str, str], ...] = ()
    new_post_name: str = DEFAULT_NEW_POST_NAME
    default_category: str = DEFAULT_CATEGORY
    category_map: tuple[tuple[str, str], ...] = ()
    filename_case: int = 0  # slugs: 0 as written, 1 lower case, 2 upper case
    post_asset_folder: bool = False
    marked: MarkedOptions = HEXO_DEFAULTS

    @property
    def config_path(self) -> str:
        return os.path.join(self.root, SITE_CONFIG)

    @property
    def source_path(self) -> Path:
        return Path(self.root, self.source_dir)

    def fingerprint(self) -> str:
        """Changes whenever a setting here changes what a post imports as (part of each file's hash)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]

    def category_slug(self, chain: tuple[str, ...]) -> str:
        """A category chain as Hexo's `:category` spells it: each name mapped and slugged, joined by `/`."""
        mapping = dict(self.category_map)
        return "/".join(hexo_slug(mapping.get(name, name), self.filename_case) for name in chain)


def is_site_root(path: str | os.PathLike) -> bool:
    """Whether `path` is a Hexo site's folder (it holds a `_config.yml`)."""
    return Path(path, SITE_CONFIG).is_file()


def read_site(root: str | os.PathLike) -> HexoSite:
    """The site whose `_config.yml` is in `root`; a setting that cannot be used raises SiteConfigError."""
    root = os.path.abspath(root)
    config_path = os.path.join(root, SITE_CONFIG)
    config = _load_config(config_path)
    reader = _Settings(config, config_path)
    marked = config.get("marked")
    if marked is not None and not isinstance(marked, dict):
        raise SiteConfigError(config_path, "must be a mapping of hexo-renderer-marked's options", "marked")
    return HexoSite(
        root=root,
        source_dir=reader.text("source_dir", "source").strip("/") or "source",
        timezone=reader.time_zone("timezone"),
        url_root=_url_root(reader.text("root", "/")),
        permalink=reader.text("permalink", DEFAULT_PERMALINK) or DEFAULT_PERMALINK,
        permalink_defaults=reader.pairs("permalink_defaults"),
        new_post_name=reader.text("new_post_name", DEFAULT_NEW_POST_NAME) or DEFAULT_NEW_POST_NAME,
        default_category=reader.text("default_category", DEFAULT_CATEGORY),
        category_map=reader.pairs("category_map"),
        filename_case=reader.choice("filename_case", (0, 1, 2), 0),
        post_asset_folder=reader.flag("post_asset_folder", False),
        marked=MarkedOptions.from_config(marked),
    )


def _load_config(config_path: str) -> dict[str, Any]:
    try:
        with open(config_path, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise SiteConfigError(config_path, f"cannot be read: {exc.strerror or exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise SiteConfigError(config_path, f"is over {MAX_CONFIG_BYTES:,} bytes")
    try:
        config = yaml.safe_load(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SiteConfigError(config_path, f"is not UTF-8 (invalid byte at offset {exc.start})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SiteConfigError(config_path, f"is not valid YAML{where}: {problem}") from exc
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise SiteConfigError(config_path, "must be a mapping of settings")
    return config


@dataclass(frozen=True)
class _Settings:
    config: Mapping[str, Any]
    path: str

    def _value(self, name: str, default: Any) -> Any:
        value = self.config.get(name)
        return default if value is None else value

    def text(self, name: str, default: str) -> str:
        value = self._value(name, default)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise SiteConfigError(self.path, f"must be text, not {type(value).__name__}", name)
        return str(value).strip()

    def flag(self, name: str, default: bool) -> bool:
        value = self._value(name, default)
        if not isinstance(value, bool):
            raise SiteConfigError(self.path, f"must be true or false, not {value!r}", name)
        return value

    def choice(self, name: str, allowed: tuple, default: Any) -> Any:
        value = self._value(name, default)
        if value not in allowed or isinstance(value, bool):
            raise SiteConfigError(self.path, f"must be one of {', '.join(map(str, allowed))}, not {value!r}", name)
        return value

    def pairs(self, name: str) -> tuple[tuple[str, str], ...]:
        value = self._value(name, {})
        if not isinstance(value, dict):
            raise SiteConfigError(self.path, f"must be a mapping, not {type(value).__name__}", name)
        return tuple((str(k), "" if v is None else str(v)) for k, v in value.items())

    def time_zone(self, name: str) -> str | None:
        value = self.config.get(name)
        if value in (None, ""):
            return None
        try:
            zoneinfo.ZoneInfo(str(value))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SiteConfigError(self.path, f"{value!r} is not a known time zone", name) from exc
        return str(value)


def _url_root(value: str) -> str:
    """`root` as Hexo normalises it: starting and ending with `/`."""
    value = "/" + value.strip("/") + "/"
    return "/" if value == "//" else value


# --- the posts of a site --------------------------------------------------


@dataclass(frozen=True)
class PostRef:
    """A post another post links to with `post_link`/`post_path`: its old address and its title."""

    url: str
    title: str


@dataclass(frozen=True)
class SitePost:
    """One post's place in a Hexo site: what its file name and folder say."""

    site: HexoSite
    relative: str  # its path under source/_posts or source/_drafts, with `/`
    draft: bool = False
    # The posts this one's post_link/post_path tags name, by slug or title (importing.site_links).
    posts: Mapping[str, PostRef] = field(default_factory=dict)

    @property
    def name_fields(self) -> dict[str, str]:
        return file_name_fields(self.site.new_post_name, self.relative)

    @property
    def slug(self) -> str:
        """Hexo's slug of the post: the `:title` of its file name (`2014-06-14-hexo-2-7-released.md` → `hexo-2-7-released`)."""
        return self.name_fields["title"]

    def fingerprint(self) -> str:
        """What, besides the file's bytes, changes this post's import (part of its content hash)."""
        links = hashlib.sha256(repr(sorted(self.posts.items())).encode()).hexdigest()[:16] if self.posts else ""
        return f"{self.site.fingerprint()}\0{self.relative}\0{int(self.draft)}\0{links}"


def site_posts(site: HexoSite) -> Iterator[tuple[Path, SitePost]]:
    """The post files of `site`, sorted, each with its place: `source/_posts/` then `source/_drafts/`.

    As Hexo reads them: files and folders whose name starts with `_` or `.`
    are skipped, and with `post_asset_folder` on, only files with
    `new_post_name`'s suffix are posts (the rest are assets).
    """
    post_suffix = PurePosixPath(site.new_post_name).suffix.lower() or ".md"
    for folder, draft in ((POSTS_DIR, False), (DRAFTS_DIR, True)):
        base = site.source_path / folder
        if not base.is_dir():
            continue
        found = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))]
            for name in filenames:
                suffix = PurePosixPath(name).suffix.lower()
                if name.startswith(("_", ".")) or name.endswith(("~", "%")) or suffix not in POST_SUFFIXES:
                    continue
                if site.post_asset_folder and suffix != post_suffix:
                    continue
                path = Path(dirpath, name)
                found.append((path, SitePost(site, path.relative_to(base).as_posix(), draft)))
        yield from sorted(found, key=lambda item: item[0])


# --- file names ------------------------------------------------------------


def file_name_fields(new_post_name: str, relative: str) -> dict[str, str]:
    """What a post's file name says through `new_post_name`, as Hexo reads it.

    `:year-:month-:day-:title.md` and `2014-06-14-hexo-2-7-released.md` give
    year 2014, month 06, day 14, title `hexo-2-7-released`. A name that does
    not fit the pattern gives only a title: the whole path, slugged.
    """
    pattern = _without_suffix(new_post_name)
    path = _without_suffix(relative)
    names: list[str] = []

    def segment(match: re.Match) -> str:
        names.append(match.group(1))
        return _NAME_SEGMENTS.get(match.group(1), "(.+?)")

    # The pattern escaped (hexo-util's escapeRegExp), then each variable replaced by its segment.
    regex = _PARAM.sub(segment, re.escape(pattern))
    match = re.fullmatch(regex, path)
    if match is None:
        return {"title": hexo_slug(path)}
    fields = dict(zip(names, match.groups()))
    fields.setdefault("title", hexo_slug(path))
    return fields


def _without_suffix(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return name[: len(name) - len(suffix)] if suffix else name


def file_name_date(fields: Mapping[str, str], tz: dt.tzinfo) -> dt.datetime | None:
    """Midnight of the day a file name gives (year, month, day), in the site's time zone; None without one.

    Hexo makes that midnight in the building machine's zone and then shifts
    it; the day a name says is a day in the site's zone (docs/HEXO.md).
    """
    year, month, day = fields.get("year"), fields.get("month") or fields.get("i_month"), \
        fields.get("day") or fields.get("i_day")
    if not (year and month and day):
        return None
    try:
        return dt.datetime(int(year), int(month), int(day), tzinfo=tz)
    except ValueError:
        return None


# --- old addresses ----------------------------------------------------------


@dataclass(frozen=True)
class PermalinkPost:
    """What a post's old address is made of."""

    slug: str  # Hexo's slug (from the file name, or the front matter's `slug`)
    title: str
    published_at: dt.datetime  # aware
    category_chains: tuple[tuple[str, ...], ...] = ()
    front_matter: Mapping[str, Any] = field(default_factory=dict)


class UnknownPermalink(ValueError):
    """The old address cannot be worked out (it uses Hexo's random `:id`, or an unknown variable)."""


def old_path(site: HexoSite | None, post: PermalinkPost, tz: dt.tzinfo) -> str:
    """The root-relative address the post had on the Hexo site: the post's own `permalink`, else the site's pattern.

    `tz`: the zone the site's dates are in (the permalink's year, month and
    day are that zone's). Raises UnknownPermalink where it cannot be known.
    """
    url_root = site.url_root if site else "/"
    asset_folder = bool(site and site.post_asset_folder)
    own = post.front_matter.get("permalink")
    if isinstance(own, str) and own.strip() and not re.match(r"[a-z][a-z0-9+.-]*://", own.strip(), re.I):
        path = own.strip()
        if asset_folder and not path.endswith(("/", ".html")):
            path += "/"
        return _joined(url_root, path)
    if site is None:
        raise UnknownPermalink("the post has no permalink")
    path = _stringify(site.permalink, _permalink_values(site, post, tz))
    if asset_folder and not path.endswith(("/", ".html")):
        path += "/"
    return _joined(url_root, path)


def _permalink_values(site: HexoSite, post: PermalinkPost, tz: dt.tzinfo) -> dict[str, str]:
    local = post.published_at.astimezone(tz)
    unix = int(post.published_at.timestamp())
    values = {
        "title": post.slug,
        "name": PurePosixPath(post.slug).name,
        "post_title": hexo_slug(post.title, 1),
        "year": f"{local.year:04d}", "month": f"{local.month:02d}", "day": f"{local.day:02d}",
        "hour": f"{local.hour:02d}", "minute": f"{local.minute:02d}", "second": f"{local.second:02d}",
        "i_month": str(local.month), "i_day": str(local.day),
        "timestamp": str(unix),
        "hash": hashlib.sha1(f"{post.slug}{unix}".encode()).hexdigest()[:12],
        "category": site.category_slug(post.category_chains[-1]) if post.category_chains else site.default_category,
    }
    for key, value in post.front_matter.items():
        # Hexo lets any front-matter value fill a variable of the same name (`:lang`).
        if str(key) not in values and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            values[str(key)] = str(value)
    if "id" not in values:
        values["id"] = ""  # Hexo's own random id then: unknowable, see _stringify
    for key, value in site.permalink_defaults:
        values.setdefault(key, value)
    return values


def _stringify(pattern: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "id" and not values.get("id"):
            raise UnknownPermalink("the permalink uses :id and the post has no `id` (Hexo made a random one)")
        if name not in values:
            raise UnknownPermalink(f"the permalink uses :{name}, which the post does not have")
        return values[name]

    return _PARAM.sub(value, pattern)


def _joined(url_root: str, path: str) -> str:
    return re.sub(r"/{2,}", "/", f"{url_root}/{path.lstrip('/')}")


def article_slug(hexo_slug_text: str) -> str:
    """Our article slug for a Hexo slug: letters, digits, `-` and `_` (`hexo-1.0.0_released` → `hexo-1-0-0_released`)."""
    slug = re.sub(r"[^\w-]+", "-", hexo_slug_text)
    slug = re.sub(r"-{2,}", "-", slug).strip("-_")
    return slug[:80].rstrip("-_")
