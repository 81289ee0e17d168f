"""Parse Hexo post files into `ParsedArticle` records.

Pure Python: no database and no Django models, so it can be tested, fuzzed and
benchmarked on its own. Every problem with a file raises `ImportFileError`
naming the file and, where there is one, the field.

Hexo's rules are followed (hexo-front-matter and hexo's post processor):
YAML front matter between `---` lines (or longer runs) or with only a closing
`---`, tabs that indent it read as two spaces each, JSON between `;;;` lines;
`date` and `updated` in every form Hexo reads (`parse_date`), a post without
a date dated by its file's modification time, with a warning; a flat
`categories` list is one chain, a list of lists is several chains. How this
differs from Hexo is in docs/HEXO.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from importing.markdown import HEXO_DEFAULTS as HEXO_MARKED_DEFAULTS
from importing.markdown import MarkedOptions, is_html_body, is_markdown_path
from importing.tag_plugins import TagContext, render_body
from importing.hexo_site import (
    PermalinkPost, SitePost, UnknownPermalink, article_slug, file_name_date, old_path,
)
from newsroom.bylines import ROLES as BYLINE_ROLES
from articles.sanitize import IMAGE_URL_PATTERN

# Bump to make the next import re-process every file (parsing or sanitising
# rules changed): it is part of each file's content hash.
# 3: dates in all of Hexo's forms, explicit excerpts, `updated` as the article's
#    last-modified time (no longer other front matter), Markdown bodies rendered.
# 4: old addresses (a post's own `permalink`) kept for redirects.
# 5: Hexo's tag plugins (`{% … %}`) rendered in Markdown posts (importing.tag_plugins).
PIPELINE_VERSION = "5"

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_FRONT_MATTER_BYTES = 64 * 1024
# libyaml's composer recurses in C: deep nesting can overflow the stack and
# kill the process. Small front matter cannot nest deep enough to do that;
# anything larger goes through PyYAML's pure-Python parser, whose recursion
# Python itself bounds.
C_LOADER_MAX_BYTES = 4 * 1024
MAX_ALIASES = 20
MAX_NODES = 5_000
MAX_DEPTH = 20

MAX_TITLE_CHARS = 500
MAX_NAME_CHARS = 100
MAX_URL_CHARS = 1000
MAX_CATEGORY_CHAINS = 20
MAX_CHAIN_DEPTH = 10
MAX_TAGS = 100
MAX_SLUG_CHARS = 80
MAX_BYLINES = 20
# An old address longer than this gets no redirect: an index entry (PostgreSQL's
# B-tree) holds about 2,700 bytes, and no real permalink comes near.
MAX_OLD_PATH_BYTES = 2000
# A publication date outside these years is a typo (or 0000-01-01); the admin
# applies the same range to what editors type.
PUBLICATION_YEARS = range(1900, 9999)

IDENTITY_FIELDS = ("permalink", "link", "id", "source_url")
# slug, bylines and import_key are written by export_articles (importing.hexo_export)
# so that an exported archive imports back exactly as it was; it also writes
# `updated` (the article's last change) and `disableNunjucks` (Hexo's switch for a
# body with `{{`/`{%`), which say nothing the article does not already hold.
KNOWN_FIELDS = frozenset(
    {"title", "date", "updated", "categories", "category", "tags", "tag", "author",
     "headimg", "thumbnail", "comments", "published", "slug", "bylines", "import_key", "disableNunjucks"}
)


class ImportFileError(Exception):
    """A file that cannot be imported; `str()` is the one-line report."""

    def __init__(self, path: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {self.message}"


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ParsedArticle:
    source_path: str
    content_hash: str
    import_key: str
    title: str
    published_at: dt.datetime  # aware, UTC
    body: str  # HTML (a Markdown body rendered, importing.markdown), not yet sanitised
    # Hexo's `updated`, aware UTC, as given (it may be earlier than `date`); None: not in the file.
    updated: dt.datetime | None = None
    author: str = ""
    category_chains: tuple[tuple[str, ...], ...] = ()
    tags: tuple[str, ...] = ()
    head_image: str = ""
    thumbnail: str = ""
    comments_enabled: bool = True
    published: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    slug: str = ""  # empty: made from the title
    # (role, name) pairs an editor confirmed (see newsroom.bylines); None: detect them.
    bylines: tuple[tuple[str, str], ...] | None = None
    # The front matter's `excerpt` (or else `description`), as written; None: the
    # excerpt comes from the body (the text before `<!-- more -->`, else its start).
    excerpt: str | None = None
    # Lines for the import report, each naming the file: what was read but guessed.
    warnings: tuple[str, ...] = ()
    # Root-relative addresses the post had on its Hexo site (importing.hexo_site.old_path),
    # which answer with a redirect to the article.
    old_paths: tuple[str, ...] = ()
    # The post's asset folder's checked images (importing.assets.AssetFile), for the load stage to store.
    assets: tuple[Any, ...] = ()


# --- reading ------------------------------------------------------------


def read_source(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The raw bytes of `path`, refusing files that are too large to be posts."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ImportFileError(
                str(path), f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (--max-bytes)"
            )
        return path.read_bytes()
    except OSError as exc:
        raise ImportFileError(str(path), f"cannot read file: {exc.strerror or exc}") from exc


def content_hash(data: bytes, tz: dt.tzinfo, context: str = "") -> str:
    """Fingerprint of a file as this importer reads it.

    The time zone is included because naive dates depend on it, the pipeline
    version because a changed sanitiser must re-process old files, and
    `context` (a Hexo site post's settings and place: `SitePost.fingerprint`)
    because they change what the file imports as.
    """
    digest = hashlib.sha256(data)
    digest.update(f"\0{getattr(tz, 'key', str(tz))}\0{PIPELINE_VERSION}".encode())
    if context:
        digest.update(f"\0{context}".encode())
    return digest.hexdigest()


def decode_source(data: bytes, path: str) -> str:
    if not data.strip():
        raise ImportFileError(path, "file is empty")
    if b"\0" in data:
        raise ImportFileError(path, "file is binary (contains NUL bytes), not a text post")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            path, f"file is not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- front matter ---------------------------------------------------------

_SEPARATOR = re.compile(r"^(-{3,}|;{3,})[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class _Split:
    kind: str  # "yaml" or "json"
    front_matter: str
    body: str
    first_line: int  # 1-based line of the front matter's first line in the file


def split_front_matter(text: str, path: str) -> _Split:
    """Separate front matter from body, the ways Hexo accepts."""
    stripped = text.lstrip("\n \t")
    skipped_lines = text[: len(text) - len(stripped)].count("\n")
    opening = _SEPARATOR.match(stripped)
    if opening:
        sep = opening.group(1)
        # hexo-front-matter closes at the first line that starts with the opening
        # separator; a longer run of the same character (`---` … `-----`) closes too.
        closing = re.compile(rf"^{re.escape(sep)}{re.escape(sep[0])}*[ \t]*$", re.MULTILINE)
        end = closing.search(stripped, opening.end())
        if end is None:
            raise ImportFileError(path, f"front matter opened with '{sep}' is never closed")
        front = stripped[opening.end() + 1 : end.start()]
        body = stripped[end.end() + 1 :]
        return _Split(_kind(sep), front, body, skipped_lines + 2)
    # Hexo's other form: front matter ended by a separator, with no opening one.
    end = _SEPARATOR.search(stripped)
    if end is None:
        raise ImportFileError(path, "no front matter (expected a '---' or ';;;' block)")
    front = stripped[: end.start()]
    body = stripped[end.end() + 1 :]
    return _Split(_kind(end.group(1)), front, body, skipped_lines + 1)


def _kind(separator: str) -> str:
    return "json" if separator.startswith(";") else "yaml"


# Hexo reads YAML with js-yaml, which follows YAML 1.2: `yes`, `no`, `on`,
# `off` are strings and `12:30` is not a number. PyYAML follows YAML 1.1, so
# those resolvers are replaced to read titles such as `NO` as Hexo does.
class _HexoYAMLMixin:
    @classmethod
    def _yaml12_resolvers(cls) -> dict:
        resolvers = {
            key: [(tag, rx) for tag, rx in items
                  if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                                 "tag:yaml.org,2002:float")]
            for key, items in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        extra = [
            ("tag:yaml.org,2002:bool",
             re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
            ("tag:yaml.org,2002:int",
             re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")),
            ("tag:yaml.org,2002:float",
             re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
                        r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
             list("-+0123456789.")),
        ]
        for tag, regexp, first in extra:
            for char in first:
                resolvers.setdefault(char, []).append((tag, regexp))
        return resolvers


class _FastLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    pass


class _SafePureLoader(yaml.SafeLoader):
    pass


class YAMLTimestamp(str):
    """A plain YAML scalar shaped like a date (`2022-04-30 09:33:09`), kept as its text.

    YAML 1.2 has no implicit timestamps; PyYAML's YAML 1.1 constructor turned
    them into datetimes and raised a bare ValueError on `2021-02-30`, an hour
    of 25 or an offset of +25:00 — in any key — which stopped the whole
    import. So they stay text: `date` and `updated` are parsed by
    `parse_date` with an error naming the field, and elsewhere a valid one is
    shown as before (`timestamp_value`). The subclass only remembers that the
    value was written unquoted, as a quoted string was never a date to YAML.
    """

    __slots__ = ()


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> YAMLTimestamp:
    return YAMLTimestamp(loader.construct_scalar(node))


for _loader in (_FastLoader, _SafePureLoader):
    _loader.yaml_implicit_resolvers = _HexoYAMLMixin._yaml12_resolvers()
    # Also an explicit `!!timestamp`, which PyYAML's constructor crashed on when malformed.
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

_TIMESTAMP = yaml.SafeLoader.timestamp_regexp  # the YAML 1.1 form PyYAML's constructor reads
MAX_UTC_OFFSET = dt.timedelta(hours=24)  # exclusive, as datetime.timezone requires


def timestamp_value(text: str) -> dt.date | dt.datetime:
    """The date or datetime PyYAML made of a YAML 1.1 timestamp, or ValueError saying why it is none.

    The same reading as PyYAML's (fractions cut to microseconds, `Z` and
    `+8`/`+08:00` offsets as fixed zones), so every date that imported before
    imports to the same instant and is stored the same way.
    """
    match = _TIMESTAMP.match(text)
    if match is None:
        raise ValueError("is not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")
    part = match.groupdict()
    year, month, day = int(part["year"]), int(part["month"]), int(part["day"])
    if not part["hour"]:
        return dt.date(year, month, day)
    fraction = int((part["fraction"] or "")[:6].ljust(6, "0"))
    tzinfo = None
    if part["tz_sign"]:
        offset = dt.timedelta(hours=int(part["tz_hour"]), minutes=int(part["tz_minute"] or 0))
        if offset >= MAX_UTC_OFFSET:
            raise ValueError(f"UTC offset {part['tz']} is out of range")
        tzinfo = dt.timezone(-offset if part["tz_sign"] == "-" else offset)
    elif part["tz"]:
        tzinfo = dt.timezone.utc
    return dt.datetime(year, month, day, int(part["hour"]), int(part["minute"]), int(part["second"]),
                       fraction, tzinfo=tzinfo)


def _timestamp_or_text(value: YAMLTimestamp) -> dt.date | dt.datetime | str:
    """A valid timestamp as its date, an invalid one as plain text (YAML 1.2 reads it so)."""
    try:
        return timestamp_value(value)
    except ValueError:
        return str(value)


_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\[\]{}]+")


def load_front_matter(split: _Split, path: str) -> dict[str, Any]:
    """The front matter as a dict; safe loaders only, bounded in time and memory."""
    text = split.front_matter
    if len(text.encode()) > MAX_FRONT_MATTER_BYTES:
        raise ImportFileError(
            path, f"is over {MAX_FRONT_MATTER_BYTES // 1024} KiB", "front matter"
        )
    if split.kind == "json":
        data = _load_json(text, path)
    else:
        data = _load_yaml(_tabs_as_spaces(text), split.first_line, path)
    if data is None:
        raise ImportFileError(path, "is empty", "front matter")
    if not isinstance(data, dict):
        raise ImportFileError(
            path, f"must be a mapping of fields, not a {_type_name(data)}", "front matter"
        )
    _check_bounded(data, path)
    return data


_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)


def _tabs_as_spaces(text: str) -> str:
    """Tabs that indent a line as two spaces each, as hexo-front-matter does (`escapeYAML`).

    YAML forbids tabs in indentation; Hexo replaces them before js-yaml reads
    the front matter, so tab-indented lists and mappings import as Hexo reads them.
    """
    if "\t" not in text:
        return text
    return _LEADING_TABS.sub(lambda tabs: "  " * len(tabs[0]), text)


def _load_yaml(text: str, first_line: int, path: str) -> Any:
    # Aliases can multiply work exponentially (merge-key and "billion laughs"
    # bombs); real front matter never needs more than a few.
    if "&" in text and "*" in text and len(_ALIAS.findall(text)) > MAX_ALIASES:
        raise ImportFileError(path, f"uses more than {MAX_ALIASES} YAML aliases", "front matter")
    loader = _FastLoader if len(text) <= C_LOADER_MAX_BYTES else _SafePureLoader
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - both loaders are safe loaders
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # Where, as an editor's text editor counts (from 1); a leading tab was read as two spaces.
        line = f" at line {first_line + mark.line}, column {mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ImportFileError(path, f"invalid YAML{line}: {problem}", "front matter") from exc
    except yaml.YAMLError as exc:
        raise ImportFileError(path, f"invalid YAML: {exc}", "front matter") from exc
    except RecursionError as exc:
        raise ImportFileError(path, "nests too deeply", "front matter") from exc


def _load_json(text: str, path: str) -> Any:
    # Hexo's JSON front matter omits the outer braces.
    source = text if text.lstrip().startswith("{") else "{" + text + "}"
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise ImportFileError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}", "front matter") from exc
    except RecursionError as exc:
        raise ImportFileError(path, "nests too deeply", "front matter") from exc


def _check_bounded(data: Any, path: str) -> None:
    """Refuse structures that are huge once aliases are followed, or very deep."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise ImportFileError(path, f"has more than {MAX_NODES:,} values", "front matter")
        if depth > MAX_DEPTH:
            raise ImportFileError(path, f"nests deeper than {MAX_DEPTH} levels", "front matter")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, (list, tuple, set)):
            stack.extend((v, depth + 1) for v in node)


# --- fields -----------------------------------------------------------------


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def normalize_name(value: str) -> str:
    """Names that look the same are the same: NFKC, trimmed, inner spaces collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def _scalar_text(value: Any, field_name: str) -> str:
    if isinstance(value, YAMLTimestamp):
        value = _timestamp_or_text(value)  # `title: 2022-01-01 9:30:00` reads as it did
    if isinstance(value, bool) or value is None:
        raise _FieldError(field_name, f"must be text, not {_type_name(value)}")
    if isinstance(value, (str, int, float, dt.date)):
        return str(value)
    raise _FieldError(field_name, f"must be text, not a {_type_name(value)}")


def parse_title(meta: dict) -> str:
    value = meta.get("title")
    if value is None:
        raise _FieldError("title", "is missing")
    title = _scalar_text(value, "title").strip()
    if not title:
        raise _FieldError("title", "is blank")
    if len(title) > MAX_TITLE_CHARS:
        raise _FieldError("title", f"is {len(title)} characters, over the limit of {MAX_TITLE_CHARS}")
    return title


def parse_date(value: Any, tz: dt.tzinfo, field_name: str = "date") -> dt.datetime:
    """An aware UTC datetime from the forms Hexo reads for `date` and `updated`.

    Hexo gives a string to JavaScript's `new Date()` and a YAML timestamp to
    js-yaml; this reads the same forms (see `parse_date_text`), a number as
    milliseconds since 1970 as `new Date(number)` does, and YAML 1.1
    timestamps as PyYAML did. A value with a UTC offset or zone means exactly
    that instant; a naive one is read in `tz` (the import's time zone). A date
    that does not exist (`2021-02-30`, `25:00:00`, year 0, `+25:00`) is a
    `_FieldError` naming `field_name`, where Hexo would roll it over or drop it.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _FieldError(field_name, "is missing")
    if isinstance(value, YAMLTimestamp):
        moment = _parse_yaml_timestamp(value, field_name)
    elif isinstance(value, str):
        moment = parse_date_text(value.strip(), field_name)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = _milliseconds(value, field_name)
    else:
        raise _FieldError(field_name, f"must be a date, not a {_type_name(value)}")
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if moment.year not in PUBLICATION_YEARS:
        raise _FieldError(field_name, f"year {moment.year} is out of range")
    return moment.astimezone(dt.timezone.utc)


# Numbers below this are a year or seconds written as a number, not Hexo's
# milliseconds since 1970 (which would put `date: 2013` 2 seconds after 1970).
MIN_EPOCH_MILLISECONDS = 100_000_000_000  # 1973-03-03


def _milliseconds(value: int | float, field_name: str) -> dt.datetime:
    if not math.isfinite(value) or not MIN_EPOCH_MILLISECONDS <= value < 253_402_300_800_000:
        raise _FieldError(
            field_name, f"{value!r} is a number, not a date (Hexo reads a number as milliseconds since 1970)")
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=value)


def parse_updated(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    """Hexo's `updated` (the last-modified time) in any form `date` takes; None when absent or empty.

    Stored as given, even when earlier than `date` (Hexo accepts that too);
    the site never shows it earlier than the publication time.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value, tz, "updated")


def _parse_yaml_timestamp(text: str, field_name: str) -> dt.date | dt.datetime:
    try:
        return timestamp_value(text)
    except ValueError as exc:
        raise _FieldError(field_name, f"{_shown(text)!r} is not a valid date: {exc}") from None


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


# The date forms JavaScript's `new Date(text)` reads (V8's legacy parser,
# which Hexo's `toDate` calls), beside ISO 8601 and RFC 2822, which
# `fromisoformat` and this pattern read too:
#   2013/7/13 20:46:25 · 2013-7-13 8:46 · 2013.07.13 · 7/13/2013 · 2013/07
#   July 13, 2013 8:46 PM · 13 Jul 2013 20:46 · Sat Jul 13 2013 20:46:25 GMT+0800 (CST)
# and the Chinese 2013年7月13日 20:46, which Hexo does not read.
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_LOOSE_DATE = re.compile(
    r"""
    (?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?          # a weekday, ignored as JavaScript does
    (?:
        (?P<y1>\d{4})(?P<sep>[-/.])(?P<m1>\d{1,2})(?P=sep)(?P<d1>\d{1,2})   # 2013/7/13, 2013-7-13, 2013.7.13
      | (?P<y2>\d{4})[-/](?P<m2>\d{1,2})                                    # 2013/07: the 1st
      | (?P<m3>\d{1,2})/(?P<d3>\d{1,2})/(?P<y3>\d{4})                       # 7/13/2013 (month first)
      | (?P<n4>[a-z]{3,9})\.?\s+(?P<d4>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y4>\d{4}|\d{2})  # Jul 13, 2013
      | (?P<d5>\d{1,2})(?:\s+|-)(?P<n5>[a-z]{3,9})\.?,?(?:\s+|-)(?P<y5>\d{4}|\d{2})    # 13 Jul 2013
      | (?P<y6>\d{4})\s*年\s*(?P<m6>\d{1,2})\s*月\s*(?P<d6>\d{1,2})\s*日           # 2013年7月13日
    )
    (?:
        (?:\s*T\s*|\s+|,\s*)
        (?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
        (?:\s*(?P<ampm>[ap])\.?m\.?)?
        (?:\s*(?P<zone>z|utc|ut|gmt|[a-z]{3,4}\b))?
        (?:\s*(?P<sign>[-+])(?P<off_h>\d{1,2})(?::?(?P<off_m>\d{2}))?)?
    )?
    (?:\s*\([^()]*\))?                                          # (China Standard Time): ignored
    """,
    re.IGNORECASE | re.VERBOSE,
)
# The zone names JavaScript and RFC 2822 know, as UTC offsets in hours. CST is
# not among them: RFC 2822 and Hexo read it as US Central (-6), Chinese
# sources mean China Standard Time (+8), and a guess would be 14 hours out.
_ZONE_HOURS = {"z": 0, "ut": 0, "utc": 0, "gmt": 0, "est": -5, "edt": -4, "cdt": -5,
               "mst": -7, "mdt": -6, "pst": -8, "pdt": -7}


def parse_date_text(text: str, field_name: str = "date") -> dt.date | dt.datetime:
    """A date or datetime (aware if the text has a zone or offset) from any form Hexo reads."""
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _LOOSE_DATE.fullmatch(text)
    if match is None:
        raise _FieldError(
            field_name, f"{_shown(text)!r} is not a date "
                        "(YYYY-MM-DD HH:MM:SS, YYYY/M/D H:MM, ISO 8601, RFC 2822 or another form Hexo reads)")
    try:
        return _loose_date_value(match.groupdict())
    except ValueError as exc:
        raise _FieldError(field_name, f"{_shown(text)!r} is not a valid date: {exc}") from None


def _loose_date_value(part: dict[str, str | None]) -> dt.datetime:
    if part["y1"]:
        year, month, day = int(part["y1"]), int(part["m1"]), int(part["d1"])
    elif part["y2"]:
        year, month, day = int(part["y2"]), int(part["m2"]), 1
    elif part["y3"]:
        year, month, day = int(part["y3"]), int(part["m3"]), int(part["d3"])
    elif part["y6"]:
        year, month, day = int(part["y6"]), int(part["m6"]), int(part["d6"])
    else:
        name, day_text, year_text = ((part["n4"], part["d4"], part["y4"]) if part["n4"]
                                     else (part["n5"], part["d5"], part["y5"]))
        month, day, year = _month_number(name), int(day_text), int(year_text)
        if len(year_text) == 2:  # RFC 822's two-digit years, read as JavaScript and email.utils do
            year += 2000 if year < 50 else 1900
    hour = int(part["hour"] or 0)
    if part["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} is not a 12-hour clock hour")
        hour = hour % 12 + (12 if part["ampm"].lower() == "p" else 0)
    fraction = int((part["fraction"] or "")[:6].ljust(6, "0"))
    moment = dt.datetime(year, month, day, hour, int(part["minute"] or 0), int(part["second"] or 0), fraction)
    offset: dt.timedelta | None = None
    if part["zone"]:
        zone = part["zone"].lower()
        if zone not in _ZONE_HOURS:
            raise ValueError(f"time zone {part['zone']!r} is unknown or ambiguous: write an offset such as +08:00")
        offset = dt.timedelta(hours=_ZONE_HOURS[zone])
    if part["sign"]:
        extra = dt.timedelta(hours=int(part["off_h"]), minutes=int(part["off_m"] or 0))
        if extra >= MAX_UTC_OFFSET:
            raise ValueError(f"UTC offset {part['sign']}{part['off_h']}:{part['off_m'] or '00'} is out of range")
        offset = (offset or dt.timedelta()) + (-extra if part["sign"] == "-" else extra)  # GMT+0800
    return moment if offset is None else moment.replace(tzinfo=dt.timezone(offset))


def _month_number(name: str) -> int:
    name = name.lower()
    for number, full in enumerate(_MONTH_NAMES, start=1):
        if full.startswith(name) or (name == "sept" and number == 9):
            return number
    raise ValueError(f"{name!r} is not a month")


def _name(value: Any, field_name: str) -> str:
    name = normalize_name(_scalar_text(value, field_name))
    if len(name) > MAX_NAME_CHARS:
        raise _FieldError(field_name, f"name {name[:20]!r}… is over {MAX_NAME_CHARS} characters")
    return name


def _as_list(value: Any, field_name: str) -> list:
    """Hexo lets a single name stand for a list of one."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [value]
    if not isinstance(value, list):
        raise _FieldError(field_name, f"must be a string or a list, not a {_type_name(value)}")
    return value


def parse_categories(value: Any) -> tuple[tuple[str, ...], ...]:
    """Hexo's category chains: a flat list is ONE chain; a list of lists, several."""
    value = _as_list(value, "categories")
    if any(isinstance(item, list) for item in value):
        raw_chains = [item if isinstance(item, list) else [item] for item in value]
    else:
        raw_chains = [value] if value else []
    if len(raw_chains) > MAX_CATEGORY_CHAINS:
        raise _FieldError("categories", f"has {len(raw_chains)} chains, over the limit of {MAX_CATEGORY_CHAINS}")
    chains: list[tuple[str, ...]] = []
    for raw in raw_chains:
        if len(raw) > MAX_CHAIN_DEPTH:
            raise _FieldError("categories", f"a chain is {len(raw)} levels deep, over the limit of {MAX_CHAIN_DEPTH}")
        if any(isinstance(item, (list, dict)) for item in raw):
            raise _FieldError("categories", "a chain may hold only names")
        chain = tuple(name for name in (_name(item, "categories") for item in raw if item is not None) if name)
        if chain and chain not in chains:
            chains.append(chain)
    return tuple(chains)


def parse_tags(value: Any) -> tuple[str, ...]:
    value = _as_list(value, "tags")
    if len(value) > MAX_TAGS:
        raise _FieldError("tags", f"has {len(value)} entries, over the limit of {MAX_TAGS}")
    tags: dict[str, str] = {}
    for item in value:
        if isinstance(item, (list, dict)):
            raise _FieldError("tags", "must be a list of names")
        if item is None:
            continue
        name = _name(item, "tags")
        if name:
            tags.setdefault(name.casefold(), name)
    return tuple(tags.values())


def parse_author(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and "name" in value:  # some themes: {name:, link:}
        value = value["name"]
    return _name(value, "author")


_URL = re.compile(IMAGE_URL_PATTERN, re.IGNORECASE)


def parse_url(value: Any, field_name: str) -> str:
    if value is None:
        return ""
    url = _scalar_text(value, field_name).strip()
    if not url:
        return ""
    if len(url) > MAX_URL_CHARS:
        raise _FieldError(field_name, f"URL is over {MAX_URL_CHARS} characters")
    if not _URL.match(url):
        shown = url if len(url) <= 60 else url[:57] + "..."
        raise _FieldError(field_name, f"{shown!r} is not an http(s) URL or a site path")
    return url


def parse_flag(value: Any, field_name: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise _FieldError(field_name, f"must be true or false, not {value!r}"[:120])


_SLUG = re.compile(r"^[-\w]+$")


def parse_slug(value: Any) -> str:
    if value is None:
        return ""
    slug = _scalar_text(value, "slug").strip()
    if len(slug) > MAX_SLUG_CHARS:
        raise _FieldError("slug", f"is {len(slug)} characters, over the limit of {MAX_SLUG_CHARS}")
    if slug and not _SLUG.match(slug):
        raise _FieldError("slug", f"{slug[:40]!r} is not a slug (letters, digits, '-' and '_' only)")
    return slug


def parse_bylines(value: Any) -> tuple[tuple[str, str], ...] | None:
    """`bylines: [记者 黄靖斯, 实习记者 连润]`: role and name; a name alone is a 记者."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise _FieldError("bylines", f"must be a list, not a {_type_name(value)}")
    if len(value) > MAX_BYLINES:
        raise _FieldError("bylines", f"has {len(value)} entries, over the limit of {MAX_BYLINES}")
    result: dict[str, tuple[str, str]] = {}
    for item in value:
        words = _scalar_text(item, "bylines").split()
        if len(words) == 1:
            role, raw_name = "记者", words[0]
        elif len(words) >= 2 and words[0] in BYLINE_ROLES:
            role, raw_name = words[0], " ".join(words[1:])
        else:
            raise _FieldError(
                "bylines", f"{str(item)[:40]!r} is not 'role name' (roles: {', '.join(BYLINE_ROLES)})")
        name = _name(raw_name, "bylines")
        result.setdefault(name, (role, name))
    return tuple(result.values())


def jsonable(value: Any) -> Any:
    """Front-matter values as JSON: dates as ISO text, sets as lists, keys as text.

    NUL characters (a YAML "\\0" escape) are dropped from text: PostgreSQL's
    jsonb cannot hold \\u0000, and the value must be the same on every database.
    """
    if isinstance(value, dict):
        return {_without_nul(_key_text(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, YAMLTimestamp):
        return jsonable(_timestamp_or_text(value))  # stored as when YAML made it a datetime
    if isinstance(value, str):
        return _without_nul(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return _without_nul(value.decode("utf-8", "replace"))
    if isinstance(value, float) and not math.isfinite(value):
        # NaN and infinities are not JSON: keep them as YAML spells them.
        return ".nan" if value != value else (".inf" if value > 0 else "-.inf")
    return value


def _key_text(key: Any) -> str:
    return str(_timestamp_or_text(key) if isinstance(key, YAMLTimestamp) else key)


def _without_nul(text: str) -> str:
    return text.replace("\0", "")


def import_key(meta: dict, author: str, title: str, source_name: str = "") -> str:
    """A story's identity, independent of its file name and of --timezone.

    A naive date is taken as written (read as UTC here), so re-importing a
    file with another --timezone moves its article instead of copying it. A
    post without a date (dated by its file's modification time, which a copy
    changes) is told apart by its file's name instead, not its folder.
    """
    explicit = meta.get("import_key")
    if isinstance(explicit, str) and re.fullmatch(r"[0-9a-f]{64}", explicit):
        return explicit  # written by export_articles: the key the article had
    for name in IDENTITY_FIELDS:
        value = meta.get(name)
        if value not in (None, "") and not isinstance(value, (dict, list)):
            identity = f"{name}\0{_key_text(value).strip()}"
            break
    else:
        if _is_blank(meta.get("date")):
            identity = f"story\0{author}\0{title}\0file\0{_file_name(source_name)}"
        else:
            written_at = parse_date(meta.get("date"), dt.timezone.utc)
            identity = f"story\0{author}\0{title}\0{written_at.isoformat()}"
    return hashlib.sha256(identity.encode()).hexdigest()


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_excerpt(meta: dict) -> str | None:
    """The front matter's `excerpt`, else its `description`; None when neither has text.

    Hexo itself uses `excerpt` (hexo/lib/plugins/filter/after_post_render/excerpt.js);
    `description` is the summary its themes and `open_graph` show.
    """
    for name in ("excerpt", "description"):
        value = meta.get(name)
        if _is_blank(value):
            continue
        text = _scalar_text(value, name).strip()
        if text:
            return text
    return None


def _file_time(modified: float, tz: dt.tzinfo, path: str) -> tuple[dt.datetime, str]:
    """A post without a date is dated by its file's modification time, with a warning saying so."""
    moment = dt.datetime.fromtimestamp(modified, dt.timezone.utc)
    if moment.year not in PUBLICATION_YEARS:
        raise _FieldError("date", f"is missing, and the file's modification time ({moment.year}) is out of range")
    shown = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")
    return moment, f"{path}: date is missing: dated by the file's modification time, {shown}"


def build_article(meta: dict, body: str, *, path: str, digest: str, tz: dt.tzinfo,
                  modified: float | None = None, site_post: SitePost | None = None) -> ParsedArticle:
    """Validate front-matter fields; every bad field is named in one error.

    `modified` is the file's modification time (seconds since 1970): what a
    post without a `date` is dated by, as Hexo does, with a warning. Without
    it, a missing date is an error.

    `site_post`: where the post sits in a Hexo site, if it was imported as
    one. Its file name then gives the date (midnight of its day), the title
    and the slug the front matter leaves out, through the site's
    `new_post_name`; a draft is never published; and its old address is
    worked out from the site's `permalink`.
    """
    problems: list[_FieldError] = []
    values: dict[str, Any] = {}
    warnings: list[str] = []

    def take(name: str, fn, *args) -> None:
        try:
            values[name] = fn(*args)
        except _FieldError as exc:
            problems.append(exc)

    name_fields = site_post.name_fields if site_post else {}
    if site_post is not None and meta.get("title") is None and name_fields.get("title"):
        values["title"] = name_fields["title"]  # Hexo's use_slug_as_post_title
    else:
        take("title", parse_title, meta)
    name_date = file_name_date(name_fields, tz) if _is_blank(meta.get("date")) else None
    if name_date is not None:
        values["published_at"] = name_date.astimezone(dt.timezone.utc)
    elif _is_blank(meta.get("date")) and modified is not None:
        try:
            values["published_at"], warning = _file_time(modified, tz, path)
            warnings.append(warning)
        except _FieldError as exc:
            problems.append(exc)
    else:
        take("published_at", parse_date, meta.get("date"), tz)
    take("category_chains", parse_categories, meta.get("categories", meta.get("category")))
    take("tags", parse_tags, meta.get("tags", meta.get("tag")))
    take("author", parse_author, meta.get("author"))
    take("head_image", parse_url, meta.get("headimg"), "headimg")
    take("thumbnail", parse_url, meta.get("thumbnail"), "thumbnail")
    take("comments_enabled", parse_flag, meta.get("comments"), "comments", True)
    take("published", parse_flag, meta.get("published"), "published", True)
    take("slug", parse_slug, meta.get("slug"))
    if site_post is not None and not values.get("slug") and meta.get("slug") is None:
        values["slug"] = article_slug(site_post.slug)
    take("updated", parse_updated, meta.get("updated"), tz)
    take("excerpt", parse_excerpt, meta)
    take("bylines", parse_bylines, meta.get("bylines"))
    if "import_key" in meta and not (
            isinstance(meta["import_key"], str) and re.fullmatch(r"[0-9a-f]{64}", meta["import_key"])):
        problems.append(_FieldError("import_key", "must be 64 lower-case hexadecimal digits"))
    if problems:
        message = "; ".join(f"{p.field} {p}" for p in problems)
        raise ImportFileError(path, message)

    if site_post is not None and site_post.draft:
        values["published"] = False  # source/_drafts: never public, whatever the front matter says
    old_paths, permalink_warning = _old_paths(meta, values, site_post, tz, path)
    warnings.extend(permalink_warning)

    extra = jsonable({k: v for k, v in meta.items() if str(k) not in KNOWN_FIELDS})
    return ParsedArticle(
        old_paths=old_paths,
        source_path=path,
        content_hash=digest,
        import_key=import_key(meta, values["author"], values["title"], path),
        body=body,
        extra=extra,
        warnings=tuple(warnings),
        **values,
    )


def _old_paths(meta: dict, values: dict[str, Any], site_post: SitePost | None, tz: dt.tzinfo,
               path: str) -> tuple[tuple[str, ...], list[str]]:
    """The post's old address on its Hexo site, if it can be known, and a warning if it cannot."""
    if site_post is None and not isinstance(meta.get("permalink"), str):
        return (), []
    slug = str(meta.get("slug") or "").strip() or (site_post.slug if site_post else values.get("slug", ""))
    post = PermalinkPost(slug=slug, title=values["title"], published_at=values["published_at"],
                         category_chains=values["category_chains"], front_matter=meta)
    try:
        address = old_path(site_post.site if site_post else None, post, tz)
    except UnknownPermalink as exc:
        if site_post is None:
            return (), []
        return (), [f"{path}: permalink: the old address is not known ({exc}): no redirect from it"]
    if len(address.encode()) > MAX_OLD_PATH_BYTES:
        return (), [f"{path}: permalink: the old address is over {MAX_OLD_PATH_BYTES:,} bytes: no redirect from it"]
    return (address,), []


def parse_text(text: str, *, path: str, digest: str, tz: dt.tzinfo, modified: float | None = None,
               marked: MarkedOptions | None = HEXO_MARKED_DEFAULTS,
               site_post: SitePost | None = None,
               assets: Mapping[str, str] | None = None) -> ParsedArticle:
    """One post's text as a `ParsedArticle`.

    The body of a Markdown file (`.md`, `.markdown`) is rendered to HTML with
    `marked`, hexo-renderer-marked's options (importing.markdown), unless it
    is HTML already, and its tag plugins (`{% … %}`) are rendered, as Hexo
    does, unless its front matter says `disableNunjucks: true`
    (importing.tag_plugins: `post_link` finds the site's other posts in
    `site_post.posts`, `asset_img` its files in `assets`, name → stored URL;
    the tags' warnings join the article's). Other files' bodies, and every
    body with `marked=None`, are kept as written. `modified`: the file's
    modification time, which dates a post without a `date`; None makes a
    missing date an error. `site_post`: the post's place in a Hexo site (see
    `build_article`), whose `marked` options then render it; a site's post
    may have no front matter at all.
    """
    meta, body = front_matter_and_body(text, path, site_post)
    if site_post is not None and marked is not None:
        marked = site_post.site.marked
    tag_warnings: tuple[str, ...] = ()
    if marked is not None and is_markdown_path(path) and body.strip():
        context = TagContext(path=path, marked=marked, posts=site_post.posts if site_post else {},
                             assets=assets or {}, enabled=meta.get("disableNunjucks") is not True)
        rendered = render_body(body, context, markdown=not is_html_body(body))
        body, tag_warnings = rendered.html, rendered.warnings
    article = build_article(meta, body, path=path, digest=digest, tz=tz, modified=modified, site_post=site_post)
    if tag_warnings:
        article = dataclasses.replace(article, warnings=article.warnings + tag_warnings)
    return article


def front_matter_and_body(text: str, path: str, site_post: SitePost | None) -> tuple[dict, str]:
    if site_post is not None and not _SEPARATOR.search(text):
        return {}, text  # Hexo reads a post without front matter: all of it is the body
    split = split_front_matter(text, path)
    return load_front_matter(split, path), split.body


def parse_bytes(data: bytes, *, path: str, tz: dt.tzinfo, digest: str | None = None,
                modified: float | None = None,
                marked: MarkedOptions | None = HEXO_MARKED_DEFAULTS,
                site_post: SitePost | None = None,
                assets: Mapping[str, str] | None = None) -> ParsedArticle:
    """Parse one file's bytes (already read) into a `ParsedArticle` (see `parse_text`)."""
    if digest is None:
        digest = content_hash(data, tz, site_post.fingerprint() if site_post else "")
    return parse_text(decode_source(data, path), path=path, digest=digest, tz=tz, modified=modified, marked=marked,
                      site_post=site_post, assets=assets)


def get_timezone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
