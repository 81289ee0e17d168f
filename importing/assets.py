"""Hexo post asset folders: which files beside a post are stored, and where its body's links point.

With Hexo's `post_asset_folder: true`, the folder named after a post file
(`2014-07-13-hexo-2-8-released.md` → `2014-07-13-hexo-2-8-released/`) holds the
files its body refers to by relative name. `post_assets` lists and checks that
folder; `resolve_asset_links` points the body's relative references at the
stored files. Both are pure (no Django: the `pure-import-stages` contract), so
they run in the import's worker processes; the files are stored later, by the
load stage (`importing.asset_store`), on a real run only.

Only real images are accepted, checked by their content (Pillow), not their
name: an uploaded archive is untrusted, and a `.png` that is really HTML or
SVG would be served from our own origin. Each file is stored under a name made
from its SHA-256 (`hexo-assets/ab/ab…ef.png`), so the same image in two posts,
or in two imports, is stored once, and its URL is known before it is stored.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import posixpath
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple
from urllib.parse import unquote, urlsplit

from PIL import Image, UnidentifiedImageError

DEFAULT_ASSET_MAX_BYTES = 10 * 1024 * 1024

# Where stored assets live within the storage (MEDIA_ROOT by default).
STORAGE_DIR = "hexo-assets"

# Pillow's format name → the stored file's extension. Only formats every browser
# shows and none of which can carry script; SVG can, so it is refused.
ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}

# Links that name a page rather than a file: a missing one is not reported.
_PAGE_SUFFIXES = frozenset({"", ".html", ".htm", ".php", ".asp", ".aspx", ".md"})


class AssetFile(NamedTuple):
    """A checked file to store: where it is now, the storage name it gets, its name in the folder."""

    source: str
    storage_name: str
    name: str


@dataclass(frozen=True)
class PostAssets:
    """What a post's asset folder holds that may be stored and shown."""

    # Name in the folder (`chart.png`, `img/a.png`, always `/`-separated) → the URL it is served at.
    urls: dict[str, str] = field(default_factory=dict)
    # The accepted files, to be stored by the load stage.
    files: tuple[AssetFile, ...] = ()
    # One line per rejected file, naming the post and the file.
    warnings: tuple[str, ...] = ()


NO_ASSETS = PostAssets()


def asset_folder(post_file: Path) -> Path:
    """The folder Hexo reads a post's assets from: its path without the extension."""
    return post_file.with_suffix("")


def storage_name(digest: str, extension: str) -> str:
    """The content-addressed name a file is stored under."""
    return f"{STORAGE_DIR}/{digest[:2]}/{digest}.{extension}"


def post_assets(post_file: Path, *, max_bytes: int = DEFAULT_ASSET_MAX_BYTES, media_url: str = "/media/",
                post_name: str | None = None) -> PostAssets:
    """The images in `post_file`'s asset folder: their URLs, the files to store, and what was refused.

    Walks the folder as Hexo does (`hexo-fs listDir`, `isExcludedFile`): every
    file in it and its sub-folders, except names (or folders) starting with
    `.` or `_` and editors' temporary files (`…~`, `…%`). A symbolic link
    that leads out of the folder is refused; one that stays in is read. A
    folder that is itself a link is not read at all. `post_name` is how the
    post is called in warnings (its path by default).
    """
    post = post_name if post_name is not None else str(post_file)
    folder = asset_folder(post_file)
    if folder.is_symlink():
        return PostAssets(warnings=(f"{post}: asset folder {folder.name}/ is a symbolic link: not read",))
    if not folder.is_dir():
        return NO_ASSETS
    root = os.path.realpath(folder)
    urls: dict[str, str] = {}
    files: list[AssetFile] = []
    problems: list[str] = []
    for path, name in _walk(folder):
        problem, accepted = _check(path, name, root=root, max_bytes=max_bytes)
        if problem:
            problems.append(f"{post}: asset {name}: {problem}; not imported")
            continue
        urls[name] = media_url.rstrip("/") + "/" + accepted
        files.append(AssetFile(str(path), accepted, name))
    return PostAssets(urls=urls, files=tuple(files), warnings=tuple(problems))


def _walk(folder: Path) -> list[tuple[Path, str]]:
    """(path, name in the folder) of every file Hexo would take as an asset, sorted by name."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):  # does not follow links to folders
        dirnames[:] = [d for d in dirnames if not _hidden(d)]
        here = Path(dirpath)
        for entry in [*filenames, *(d for d in dirnames if (here / d).is_symlink())]:
            if _hidden(entry) or entry.endswith(("~", "%")):
                continue
            path = here / entry
            # NFC, as references are written: a folder unpacked on macOS has decomposed names (é as e + ́).
            found.append((path, unicodedata.normalize("NFC", path.relative_to(folder).as_posix())))
    return sorted(found, key=lambda item: item[1])


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _check(path: Path, name: str, *, root: str, max_bytes: int) -> tuple[str | None, str]:
    """(why the file is refused, or None; its storage name when accepted)."""
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        return "a link to a file outside the asset folder", ""
    if not os.path.isfile(real):
        return "not a regular file", ""
    try:
        size = os.path.getsize(real)
        if size > max_bytes:
            return f"{size:,} bytes, over the {max_bytes:,}-byte limit (NEWSPORTAL_ASSET_MAX_BYTES)", ""
        with open(real, "rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}", ""
    if len(data) > max_bytes:  # it grew since the stat
        return f"over the {max_bytes:,}-byte limit (NEWSPORTAL_ASSET_MAX_BYTES)", ""
    image_format, problem = image_format_of(data)
    if problem:
        if Path(name).suffix.lower() == ".svg" or data.lstrip()[:5].lower() in (b"<svg ", b"<?xml"):
            return "SVG is not accepted (it can carry scripts)", ""
        return problem, ""
    return None, storage_name(hashlib.sha256(data).hexdigest(), ALLOWED_FORMATS[image_format])


def image_format_of(data: bytes) -> tuple[str, str | None]:
    """(Pillow's format name, None) for an image we accept, else ("", why not)."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns above MAX_IMAGE_PIXELS; such a file is refused, not decoded later.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as image:
                image_format = image.format or ""
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "", "an image with too many pixels"
    except UnidentifiedImageError:
        return "", "not an image (PNG, JPEG, GIF or WebP, checked by content)"
    except Exception as exc:  # noqa: BLE001 — Pillow raises many kinds for a damaged file
        return "", f"a damaged image ({type(exc).__name__}: {exc})"
    if image_format not in ALLOWED_FORMATS:
        return "", "not an image (PNG, JPEG, GIF or WebP, checked by content)"
    return image_format, None


# --- the body's links ----------------------------------------------------------

# A start tag as the sanitiser (nh3) writes it: every attribute value double-quoted
# with `"` escaped, and `<` never raw in text. So a tag is found only where it is
# one, never in a code sample's text; its attributes, read from the left, one by one,
# so text inside a value (`alt="a src="`) is never taken for an attribute.
_TAG = re.compile(r'(<[a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s="/>]+(?:="[^"]*")?)*)(\s*/?>)')
_ATTRIBUTE = re.compile(r'(\s+)([^\s="/>]+)(?:="([^"]*)")?')


def resolve_asset_links(body_html: str, urls: dict[str, str]) -> tuple[str, list[str]]:
    """Point `body_html`'s relative `src` and `href` at the asset URLs in `urls`.

    `body_html` must be the sanitiser's output (its tags written as nh3 writes
    them). Returns the new HTML and, in order and once each, the names that
    relative references ask for and `urls` lacks: every `src`, and each `href`
    that names a file (`report.pdf`, not `../other-post/` or `page.html`).
    Absolute URLs (`https:`, `//host`), root-relative paths (`/images/a.png`)
    and fragments (`#top`) are left as they are.
    """
    missing: dict[str, None] = {}

    def replace(kind: str, value: str) -> str | None:
        name = _relative_name(value)
        if name is None:
            return None
        url = urls.get(name)
        if url is None and (kind == "src" or posixpath.splitext(name)[1].lower() not in _PAGE_SUFFIXES):
            missing.setdefault(name, None)
        return url

    return rewrite_links(body_html, replace), list(missing)


def rewrite_links(body_html: str, replace: Callable[[str, str], str | None]) -> str:
    """`body_html` with its `src` and `href` values changed where `replace` gives a new one.

    `replace(kind, value)` is called for each, in order, with `kind` "src" or
    "href" and the value unescaped; None leaves the attribute as it was. The
    new value is written escaped. `body_html` must be the sanitiser's output
    (`resolve_asset_links`); the export (importing.hexo_export) uses it to
    point stored images back at a post's asset folder.
    """
    def attribute(match: re.Match) -> str:
        kind, value = match[2].lower(), match[3]
        if kind not in ("src", "href") or value is None:
            return match[0]
        url = replace(kind, html.unescape(value))
        if url is None:
            return match[0]
        return f'{match[1]}{match[2]}="{html.escape(url, quote=True)}"'

    def tag(match: re.Match) -> str:
        return match[1] + _ATTRIBUTE.sub(attribute, match[2]) + match[3]

    if "src=" not in body_html and "href=" not in body_html:
        return body_html
    return _TAG.sub(tag, body_html)


def _relative_name(url: str) -> str | None:
    """The asset name a relative URL asks for (`./img/a%20b.png` → `img/a b.png`); None if not relative."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("/", "\\")) or not parts.path:
        return None
    name = unicodedata.normalize("NFC", posixpath.normpath(unquote(parts.path)))
    return name if name != "." else None
